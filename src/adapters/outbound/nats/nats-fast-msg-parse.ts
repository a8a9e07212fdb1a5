/**
 * Lets the NATS client parse complete `MSG` frames with one scan of the control line.
 *
 * Why: nats.js (2.x) parses every protocol byte through a general state machine and then splits the
 * control line again into an array of views; at ingest rates that was about an eighth of the
 * server's main-thread time. Almost every frame the server receives is a plain `MSG` (no headers)
 * wholly inside the socket read, so this handles exactly those and hands everything else (`HMSG`,
 * `PING`, `INFO`, `+OK`, `-ERR`, a frame cut by the end of the read, anything unusual) to the
 * client's own parser, starting at that frame. A frame the client's parser left unfinished at the
 * end of the previous read is finished by it first, so the fast path resumes right after it.
 *
 * Like nats-large-message-buffer.ts this depends on the parser's internals (`state`, `ma`, `msgBuf`,
 * `argBuf`, `dispatcher`, `Kind`, `State`), with `nats` pinned to an exact version; a differential
 * test (test/unit/adapters/nats/nats-fast-msg-parse.spec.ts) checks it against the client's parser
 * on random streams cut at random points. When the internals are not there the client is left as
 * it is (`installed` false).
 */

interface MsgArg {
  sid: number;
  hdr: number;
  size: number;
  subject: Uint8Array;
  reply: Uint8Array | undefined;
}

interface ParserInternals {
  state: number;
  ma?: MsgArg;
  msgBuf?: { readonly length: number };
  argBuf?: unknown;
  dispatcher: { push(event: { kind: number; msg?: MsgArg; data?: Uint8Array }): void };
  parse(buf: Uint8Array): void;
}

const CH_M = 0x4d;
const CH_S = 0x53;
const CH_G = 0x47;
const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** The parser's enum values this patch relies on. */
interface ParserConstants {
  readonly kindMsg: number;
  readonly opStart: number;
  readonly msgPayload: number;
  readonly msgEnd: number;
}

let installed: boolean | null = null;

/** Patches the NATS client's parser once per process (after nats-large-message-buffer's patch); true when in place. */
export function installNatsFastMsgParse(): boolean {
  if (installed !== null) return installed;
  const found = clientParser();
  installed = found !== null;
  if (found !== null) found.proto.parse = fastParse(found.proto.parse, found.constants);
  return installed;
}

/** The client's parser prototype and constants, or null when its internals are not the ones expected. */
function clientParser(): { proto: ParserInternals; constants: ParserConstants } | null {
  let parser: { Parser?: { prototype: ParserInternals }; Kind?: Record<string, number>; State?: Record<string, number> };
  try {
    parser = require('nats/lib/nats-base-client/parser') as typeof parser;
  } catch {
    return null; // another layout of the client
  }
  const proto = parser.Parser?.prototype;
  const constants = { kindMsg: parser.Kind?.MSG, opStart: parser.State?.OP_START, msgPayload: parser.State?.MSG_PAYLOAD, msgEnd: parser.State?.MSG_END };
  if (proto === undefined || typeof proto.parse !== 'function' || Object.values(constants).some((v) => typeof v !== 'number')) return null;
  return { proto, constants: constants as ParserConstants };
}

/** The patched `parse`: finishes the frame the client's parser has in progress, then the fast path, then the client's parser for the rest. */
function fastParse(slowParse: (buf: Uint8Array) => void, c: ParserConstants): (this: ParserInternals, buf: Uint8Array) => void {
  return function fastMsgParse(this: ParserInternals, buf: Uint8Array): void {
    let i = 0;
    if (this.state !== c.opStart || this.argBuf !== undefined || this.msgBuf !== undefined) {
      const end = unfinishedFrameEnd(this, buf, c);
      if (end < 0) {
        slowParse.call(this, buf);
        return;
      }
      slowParse.call(this, buf.subarray(0, end));
      i = end;
      if (this.state !== c.opStart || this.argBuf !== undefined || this.msgBuf !== undefined) {
        if (i < buf.length) slowParse.call(this, buf.subarray(i));
        return;
      }
    }
    i = fastFrames(this, buf, i, c.kindMsg);
    if (i < buf.length) slowParse.call(this, i === 0 ? buf : buf.subarray(i));
  };
}

/** Dispatches the complete plain MSG frames from `i`; returns where the first other frame starts. */
function fastFrames(parser: ParserInternals, buf: Uint8Array, i: number, kindMsg: number): number {
  const n = buf.length;
  while (i + 4 <= n && buf[i] === CH_M && buf[i + 1] === CH_S && buf[i + 2] === CH_G && buf[i + 3] === SPACE) {
    let p = i + 4;
    const subjectStart = p;
    while (p < n && buf[p]! > SPACE) p++;
    if (p >= n || buf[p] !== SPACE || p === subjectStart) return i;
    const subjectEnd = p++;
    let sid = 0;
    const sidStart = p;
    while (p < n && buf[p]! >= DIGIT_0 && buf[p]! <= DIGIT_9) sid = sid * 10 + (buf[p++]! - DIGIT_0);
    if (p >= n || buf[p] !== SPACE || p === sidStart) return i;
    p++;
    // The next token is the reply subject when another token follows, else the size.
    const tokenStart = p;
    while (p < n && buf[p]! > SPACE) p++;
    if (p >= n || p === tokenStart) return i;
    let reply: Uint8Array | undefined;
    let sizeStart = tokenStart;
    if (buf[p] === SPACE) {
      reply = buf.subarray(tokenStart, p);
      sizeStart = ++p;
      while (p < n && buf[p]! >= DIGIT_0 && buf[p]! <= DIGIT_9) p++;
    }
    if (p + 1 >= n || buf[p] !== CR || buf[p + 1] !== LF || p === sizeStart) return i;
    let size = 0;
    for (let d = sizeStart; d < p; d++) {
      const digit = buf[d]! - DIGIT_0;
      if (digit < 0 || digit > 9) return i;
      size = size * 10 + digit;
    }
    const payloadStart = p + 2;
    const payloadEnd = payloadStart + size;
    if (payloadEnd + 2 > n || buf[payloadEnd] !== CR || buf[payloadEnd + 1] !== LF) return i;
    const ma: MsgArg = { sid, hdr: -1, size, subject: buf.subarray(subjectStart, subjectEnd), reply };
    parser.ma = ma;
    parser.dispatcher.push({ kind: kindMsg, msg: ma, data: buf.subarray(payloadStart, payloadEnd) });
    i = payloadEnd + 2;
  }
  return i;
}

/** Where the frame the client's parser has in progress ends in `buf`, or -1 when that is not known here. */
function unfinishedFrameEnd(parser: ParserInternals, buf: Uint8Array, c: ParserConstants): number {
  if (parser.state === c.msgPayload && parser.msgBuf !== undefined && parser.ma !== undefined) {
    const end = parser.ma.size - parser.msgBuf.length + 2; // the rest of the payload, then CRLF
    return end >= 2 && end <= buf.length ? end : -1;
  }
  if (parser.state === c.msgEnd) {
    const lf = buf.indexOf(LF);
    return lf < 0 ? -1 : lf + 1;
  }
  return -1;
}
