/**
 * The pre-1.0 configuration format (docs/configuration.md "Pre-1.0 brace format"): NATS server configuration syntax. Supported:
 * `key { … }` blocks, `[ … ]` lists, `#` and `//` comments, assignment with `=`, `:` or
 * whitespace, optional `;` and `,` terminators, double-quoted strings (escapes \t \n \r \" \\ \xHH),
 * single-quoted raw strings, bare strings, integers with NATS size suffixes (k, kb, m, mb, g, gb),
 * and booleans (true/false, yes/no, on/off). Not supported (an error names the line): `include`,
 * `$variables` and `( … )` block strings, none of which a Liftbridge file needs.
 *
 * The parser only produces dotted keys with values; mapping old key names onto today's is
 * legacy-config-keys.ts's job.
 */
import type { RawScalar } from './config-settings';
import { MAX_NESTING } from './yaml-config-file';

/** A value as written and as NATS would read it; the target key's type decides which one counts. */
export interface BraceScalar {
  /** The text (for a quoted string, its unescaped content). */
  readonly text: string;
  /** Booleans and numbers interpreted the NATS way (`yes` → true, `1k` → 1000); else the text. */
  readonly value: RawScalar;
  readonly quoted: boolean;
}

export interface BraceEntry {
  readonly key: string;
  readonly value: BraceScalar | readonly BraceScalar[];
  readonly line: number;
}

export type BraceParse =
  | { readonly kind: 'entries'; readonly entries: readonly BraceEntry[] }
  | { readonly kind: 'invalid'; readonly message: string; readonly line: number };

class BraceSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const SIZE_SUFFIX: Readonly<Record<string, number>> = {
  k: 1000,
  kb: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
};
const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = { true: true, yes: true, on: true, false: false, no: false, off: false };

export function parseBraceConfig(text: string): BraceParse {
  const parser = new BraceParser(text);
  try {
    return { kind: 'entries', entries: parser.parseDocument() };
  } catch (e) {
    if (!(e instanceof BraceSyntaxError)) throw e;
    return { kind: 'invalid', message: e.message, line: e.line };
  }
}

/**
 * Cheap check for "this file is written in the brace format": a line that opens a block
 * (`key {`), assigns with `=`, a `//` comment, or a lone `}`. None of these is valid in a YAML
 * map of settings.
 */
export function looksLikeBraceFormat(text: string): boolean {
  return /^[ \t]*("[^"\n]*"|'[^'\n]*'|[A-Za-z0-9_][A-Za-z0-9_.-]*)[ \t]*(\{|=)|^[ \t]*\/\/|^[ \t]*\}[ \t;]*$/m.test(text);
}

class BraceParser {
  private pos = 0;
  private readonly lineStarts: number[] = [0];
  private readonly entries: BraceEntry[] = [];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }

  parseDocument(): BraceEntry[] {
    this.parseEntries('', false, 0);
    return this.entries;
  }

  private parseEntries(prefix: string, inBlock: boolean, depth: number): void {
    if (depth > MAX_NESTING) this.fail(`blocks nested deeper than ${MAX_NESTING} levels`);
    const blockLine = this.line();
    for (;;) {
      this.skip({ newlines: true, separators: true });
      const c = this.peek();
      if (c === undefined) {
        if (inBlock) this.fail(`missing "}" to close the block "${prefix}" opened at line ${blockLine}`);
        return;
      }
      if (c === '}') {
        if (!inBlock) this.fail('unexpected "}"');
        this.pos++;
        return;
      }
      this.parseEntry(prefix, inBlock, depth);
    }
  }

  private parseEntry(prefix: string, inBlock: boolean, depth: number): void {
    const line = this.line();
    const name = this.readKey();
    if (name.toLowerCase() === 'include') this.fail('"include" is not supported in configuration files');
    const key = prefix === '' ? name : `${prefix}.${name}`;
    this.skip({ newlines: false, separators: false });
    const sep = this.peek();
    if (sep === ':' || sep === '=') {
      this.pos++;
      this.skip({ newlines: false, separators: false });
    }
    const c = this.peek();
    if (c === undefined || c === '\n' || c === '\r') this.fail(`missing value for "${key}"`);
    if (c === '{') {
      this.pos++;
      this.parseEntries(key, true, depth + 1);
    } else {
      this.entries.push({ key, value: this.readValue(key), line });
    }
    this.expectEndOfValue(key, inBlock);
  }

  private expectEndOfValue(key: string, inBlock: boolean): void {
    this.skip({ newlines: false, separators: false });
    const c = this.peek();
    if (c === undefined || c === '\n' || c === '\r' || c === ';' || c === ',' || this.atComment()) return;
    if (c === '}' && inBlock) return;
    this.fail(`unexpected ${JSON.stringify(c)} after the value of "${key}"`);
  }

  private readKey(): string {
    const c = this.peek();
    if (c === '"' || c === "'") return this.readQuoted(c, false);
    const start = this.pos;
    while (this.pos < this.text.length && !/[\s:={}[\],;]/.test(this.text[this.pos] as string)) this.pos++;
    if (this.pos === start) this.fail(`expected a setting name, found ${JSON.stringify(c)}`);
    return this.text.slice(start, this.pos);
  }

  private readValue(key: string): BraceScalar | BraceScalar[] {
    const c = this.peek();
    if (c === '[') return this.readList(key);
    if (c === '"' || c === "'") {
      const text = this.readQuoted(c, c === '"');
      return { text, value: text, quoted: true };
    }
    if (c === '(') this.fail(`block strings "( … )" are not supported (setting "${key}")`);
    if (c === ']' || c === ',' || c === ';') this.fail(`missing value for "${key}"`);
    return this.readBare(key);
  }

  private readList(key: string): BraceScalar[] {
    const openLine = this.line();
    this.pos++; // [
    const items: BraceScalar[] = [];
    for (;;) {
      this.skip({ newlines: true, separators: true });
      const c = this.peek();
      if (c === undefined) this.fail(`missing "]" to close the list "${key}" opened at line ${openLine}`);
      if (c === ']') {
        this.pos++;
        return items;
      }
      if (c === '[' || c === '{') this.fail(`the list "${key}" may only contain plain values`);
      const item = this.readValue(key);
      items.push(item as BraceScalar);
    }
  }

  private readQuoted(quote: '"' | "'", escapes: boolean): string {
    const line = this.line();
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) throw new BraceSyntaxError(`unterminated string starting at line ${line}`, line);
      this.pos++;
      if (c === quote) return out;
      if (c === '\\' && escapes) out += this.readEscape();
      else out += c;
    }
  }

  private readEscape(): string {
    const c = this.text[this.pos++];
    switch (c) {
      case 't':
        return '\t';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case '"':
        return '"';
      case '\\':
        return '\\';
      case 'x': {
        const hex = this.text.slice(this.pos, this.pos + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.fail(`expected two hexadecimal digits after "\\x"`);
        this.pos += 2;
        return String.fromCharCode(parseInt(hex, 16));
      }
      default:
        return this.fail(`invalid escape "\\${c ?? ''}" (allowed: \\xHH \\t \\n \\r \\" \\\\)`);
    }
  }

  private readBare(key: string): BraceScalar {
    const start = this.pos;
    while (this.pos < this.text.length && !/[\s;,\]}]/.test(this.text[this.pos] as string)) this.pos++;
    const text = this.text.slice(start, this.pos);
    if (text === '') this.fail(`missing value for "${key}"`);
    if (text.startsWith('$')) this.fail(`variables such as "${text}" are not supported (setting "${key}")`);
    return { text, value: interpretBare(text), quoted: false };
  }

  /** Skips spaces and comments; optionally newlines and the `;`/`,` separators between entries. */
  private skip(opts: { newlines: boolean; separators: boolean }): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\uFEFF') this.pos++;
      else if (opts.newlines && (c === '\n' || c === '\r')) this.pos++;
      else if (opts.separators && (c === ';' || c === ',')) this.pos++;
      else if (opts.newlines && this.atComment()) this.skipComment();
      else return;
    }
  }

  private atComment(): boolean {
    const c = this.peek();
    return c === '#' || (c === '/' && this.text[this.pos + 1] === '/');
  }

  private skipComment(): void {
    while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private line(): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= this.pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  private fail(message: string): never {
    throw new BraceSyntaxError(message, this.line());
  }
}

function interpretBare(text: string): RawScalar {
  const lower = text.toLowerCase();
  const b = BOOLEAN_WORDS[lower];
  if (b !== undefined) return b;
  const m = /^(-?\d+)(k|kb|m|mb|g|gb)?$/.exec(lower);
  if (m) {
    const n = Number(m[1]) * (m[2] ? (SIZE_SUFFIX[m[2]] as number) : 1);
    if (Number.isSafeInteger(n)) return n;
  }
  if (/^-?\d+\.\d+$/.test(text)) return Number(text);
  return text;
}
