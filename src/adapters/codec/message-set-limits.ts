import {
  ENTRY_HEADER_BYTES,
  HEADER_COUNT_MAX,
  HEADER_KEY_BYTES_MAX,
  MESSAGE_MAX_BYTES,
  MESSAGE_MIN_BYTES,
  SERVER_HEADER_REPLY,
  SERVER_HEADER_SUBJECT,
} from './message-set-layout';

/**
 * What the message-set format (docs/storage.md §1.2) can hold for one leader record, and how many
 * bytes the stored entry takes. One set of rules for the encoder, the NATS ingest and the gRPC
 * edge, so that a record accepted at the edge is never refused by the encoder.
 */

/** Entry size reported for a record the format cannot hold: larger than any limit it is compared with. */
export const UNSTORABLE_ENTRY_BYTES = Number.MAX_SAFE_INTEGER;

/** The two server headers without their values: (2 + 7 + 4) for `subject`, (2 + 5 + 4) for `reply`. */
export const SERVER_HEADERS_FIXED_BYTES = 2 + SERVER_HEADER_SUBJECT.length + 4 + 2 + SERVER_HEADER_REPLY.length + 4;

/** A leader record's entry with empty key, value, headers, subject and reply: 28 + 16 + 24 = 68 bytes. */
export const NEW_RECORD_ENTRY_MIN_BYTES = ENTRY_HEADER_BYTES + MESSAGE_MIN_BYTES + SERVER_HEADERS_FIXED_BYTES;

/** User headers one record can carry: the int16 header count also counts the two server headers. */
export const USER_HEADER_COUNT_MAX = HEADER_COUNT_MAX - 2;

/** Per stored header: name length int16 + value length int32. */
const HEADER_FIXED_BYTES = 6;

const isServerHeader = (name: string): boolean => name === SERVER_HEADER_SUBJECT || name === SERVER_HEADER_REPLY;

/**
 * Bytes the user headers take once stored (headers named `subject` or `reply` are replaced by the
 * server's and not counted), or UNSTORABLE_ENTRY_BYTES when a name is longer than 32,767 UTF-8
 * bytes or there are more than USER_HEADER_COUNT_MAX of them.
 */
export function userHeadersBytes(headers: Readonly<Record<string, Uint8Array>> | null): number {
  if (headers === null) return 0;
  let bytes = 0;
  let count = 0;
  for (const name in headers) {
    if (isServerHeader(name)) continue;
    const nameBytes = Buffer.byteLength(name);
    if (nameBytes > HEADER_KEY_BYTES_MAX || ++count > USER_HEADER_COUNT_MAX) return UNSTORABLE_ENTRY_BYTES;
    bytes += HEADER_FIXED_BYTES + nameBytes + headers[name]!.length;
  }
  return bytes;
}

/**
 * Size of the entry a leader stores for a record (28-byte header + encoded message with the server
 * headers `subject` and `reply`), given the UTF-8 byte lengths of subject and reply; or
 * UNSTORABLE_ENTRY_BYTES when the format cannot hold it (see `newRecordFieldProblem` for why).
 */
export function newRecordEntryBytes(
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: Readonly<Record<string, Uint8Array>> | null,
  subjectBytes: number,
  replyBytes: number,
): number {
  const headerBytes = userHeadersBytes(headers);
  if (headerBytes === UNSTORABLE_ENTRY_BYTES) return UNSTORABLE_ENTRY_BYTES;
  const messageBytes =
    MESSAGE_MIN_BYTES + SERVER_HEADERS_FIXED_BYTES + (key === null ? 0 : key.length) + (value === null ? 0 : value.length) + headerBytes + subjectBytes + replyBytes;
  return messageBytes > MESSAGE_MAX_BYTES ? UNSTORABLE_ENTRY_BYTES : ENTRY_HEADER_BYTES + messageBytes;
}

/**
 * The first field the message-set format cannot hold, as `invalid <field>: <why>` naming the limit,
 * or null. Sizes as a whole are checked against the replication limit separately.
 */
export function newRecordFieldProblem(
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: Readonly<Record<string, Uint8Array>> | null,
): string | null {
  if (key !== null && key.length > MESSAGE_MAX_BYTES) return `invalid key: ${key.length} bytes, more than the ${MESSAGE_MAX_BYTES} a record can hold`;
  if (value !== null && value.length > MESSAGE_MAX_BYTES) return `invalid value: ${value.length} bytes, more than the ${MESSAGE_MAX_BYTES} a record can hold`;
  if (headers === null) return null;
  let count = 0;
  for (const name in headers) {
    if (isServerHeader(name)) continue;
    const nameBytes = Buffer.byteLength(name);
    if (nameBytes > HEADER_KEY_BYTES_MAX) return `invalid headers: a header name of ${nameBytes} bytes is longer than the limit of ${HEADER_KEY_BYTES_MAX} bytes`;
    count++;
  }
  if (count > USER_HEADER_COUNT_MAX) return `invalid headers: ${count} headers, more than the limit of ${USER_HEADER_COUNT_MAX}`;
  return null;
}
