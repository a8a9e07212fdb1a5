/**
 * Stream names become NATS subject tokens (`<ns>.<stream>.<partition>.replicate`) and directory
 * names, so they must be single, printable NATS tokens (Go does not check this: docs/compatibility.md "Go quirks" #9).
 */
export const STREAM_NAME_LENGTH_MAX = 249;
export const RESERVED_STREAM_PREFIX = '__';

/**
 * The subject of an internal stream (`__cursors` listens on `<namespace>.cursors`, docs/consumers.md
 * "Cursors"): only the controller creates a reserved name, and only on this subject.
 */
export const internalStreamSubject = (namespace: string, name: string): string => `${namespace}.${name.slice(RESERVED_STREAM_PREFIX.length)}`;

// Printable ASCII and non-ASCII letters, excluding separators NATS or the filesystem give meaning to.
const FORBIDDEN_IN_NAME = /[\s.*>/\\\u0000-\u001f\u007f]/u;

export function streamNameProblem(name: string): string | null {
  if (name.length === 0) return 'Name cannot be empty';
  if (name.length > STREAM_NAME_LENGTH_MAX) return `Name is longer than ${STREAM_NAME_LENGTH_MAX} characters`;
  if (FORBIDDEN_IN_NAME.test(name)) return 'Name must be a single NATS token: no whitespace, ".", "*", ">", "/", "\\" or control characters';
  if (name !== name.normalize('NFC') || name.includes('\ufffd')) return 'Name is not valid UTF-8 in normal form';
  return null;
}

/**
 * NATS subject rules (docs/protocol.md "CreateStream" plus the wildcard rules of NATS itself): non-empty, no whitespace,
 * no empty token, `*` and `>` only as whole tokens and `>` only last. U+FFFD is refused too: it is
 * what invalid UTF-8 from the wire decodes to, and the subject would not be the one the client sent.
 */
export function isValidSubject(subject: string): boolean {
  if (subject.length === 0 || subject.length > 4096 || /[\s\u0000\ufffd]/u.test(subject)) return false;
  const tokens = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.length === 0) return false;
    if (token.includes('>') && (token !== '>' || i !== tokens.length - 1)) return false;
    if (token.includes('*') && token !== '*') return false;
  }
  return true;
}

/** NATS subject of partition `id` of a stream on `subject` (docs/protocol.md "CreateStream"). */
export const partitionSubject = (subject: string, id: number): string => (id === 0 ? subject : `${subject}.${id}`);
