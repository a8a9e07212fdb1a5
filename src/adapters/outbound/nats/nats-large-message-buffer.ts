/**
 * Makes the NATS client receive a message that spans several socket reads into one buffer of the
 * message's size, allocated once.
 *
 * Why: nats.js (2.x) gathers such a message in a buffer that starts at the first read's size and
 * doubles as reads arrive, so a 1 MiB replication reply costs four or five growing allocations
 * and copies, plus the page faults of fresh memory. On followers under replicated load that was a
 * quarter of their CPU time, and pre-sizing raised replicated AckPolicy ALL throughput at 1 KiB by
 * about 25 % on the 2-core machine (docs/replication.md). The parser already knows the size from the
 * `MSG`/`HMSG` line, so this uses it.
 *
 * This reaches into the parser's internals (`msgBuf`, `ma.size`, `DenoBuffer`), which is why the
 * `nats` dependency is pinned to an exact version. When they do not look as expected the client is
 * left unchanged (`installed` false) and only the speed-up is lost.
 */

interface GatheringBuffer {
  bytes(options: { copy: boolean }): Uint8Array;
  readonly capacity: number;
  _reslice(length: number): void;
}

interface ParserInternals {
  msgBuf?: GatheringBuffer;
  ma?: { size: number };
  parse(buf: Uint8Array): void;
}

type BufferConstructor = new (ab: ArrayBuffer) => GatheringBuffer;

let installed: boolean | null = null;

/** Patches the NATS client's parser once per process; true when the patch is in place. */
export function installNatsLargeMessageBuffer(): boolean {
  if (installed !== null) return installed;
  installed = false;
  let proto: ParserInternals | undefined;
  let DenoBuffer: BufferConstructor | undefined;
  try {
    proto = (require('nats/lib/nats-base-client/parser') as { Parser?: { prototype: ParserInternals } }).Parser?.prototype;
    DenoBuffer = (require('nats/lib/nats-base-client/denobuffer') as { DenoBuffer?: BufferConstructor }).DenoBuffer;
  } catch {
    return installed; // another layout of the client
  }
  if (proto === undefined || typeof proto.parse !== 'function' || DenoBuffer === undefined || typeof DenoBuffer.prototype._reslice !== 'function') {
    return installed;
  }
  const parse = proto.parse;
  proto.parse = function parseIntoPresizedBuffer(this: ParserInternals, buf: Uint8Array): void {
    const before = this.msgBuf;
    parse.call(this, buf);
    const started = this.msgBuf;
    // A message's first part arrived at the end of this read: give it a buffer of the whole size.
    if (started === undefined || started === before || this.ma === undefined || this.ma.size <= started.capacity) return;
    const head = started.bytes({ copy: false });
    if (head.length > this.ma.size) return;
    const whole = new Uint8Array(this.ma.size);
    whole.set(head);
    const presized = new DenoBuffer(whole.buffer);
    presized._reslice(head.length);
    this.msgBuf = presized;
  };
  installed = true;
  return installed;
}
