import { MsgType, writeEnvelopeHeader, ENVELOPE_HEADER_BYTES } from '../../protocol/envelope';
import { hiWord, loWord, varint32Size, varint64Size, writeVarint32, writeVarint64 } from '../../protocol/protobuf-wire';

/** The acks for the records of one append: record `i` got offset `firstOffset + i`. */
export interface AckBatchInput {
  readonly stream: string;
  readonly partitionSubject: string;
  readonly firstOffset: number;
  readonly receptionTimestampNs: bigint;
  readonly commitTimestampNs: bigint;
  readonly messages: readonly AckedMessage[];
  /** Only messages with this AckPolicy get their ack now (replicated partitions: LEADER first, ALL on commit). */
  readonly onlyPolicy?: number;
}

export interface AckedMessage {
  readonly subject: string;
  readonly ackInbox: string;
  readonly correlationId: string;
  readonly ackPolicy: number;
}

/** Whether a message gets an OK ack (it has an inbox and its policy is not NONE = 2). */
export const wantsAck = (m: AckedMessage): boolean => m.ackInbox !== '' && m.ackPolicy !== 2;

const ACK_POLICY_FIELD = (7 << 3) | 0;
const OFFSET_FIELD = (4 << 3) | 0;

/**
 * Encodes the OK acks of one append (MsgType-1 envelopes around `proto.Ack`, docs/protocol.md "Ack") into one
 * buffer, and calls `emit(inbox, envelope)` for each. What every ack of the batch shares (stream,
 * partition subject, timestamps) is encoded once; subjects and inboxes are re-encoded only when they
 * change from one message to the next. Field order and omitted defaults are Go's, so the bytes equal
 * `encodeAckEnvelope`'s for the same values.
 */
export function encodeAckBatch(batch: AckBatchInput, emit: (inbox: string, envelope: Buffer) => void): void {
  const encoded = writeAcks(batch, false);
  if (encoded === null) return;
  for (let i = 0; i < encoded.inboxes.length; i++) emit(encoded.inboxes[i]!, encoded.bytes.subarray(encoded.starts[i]!, encoded.starts[i + 1]!));
}

/** The acks of one append as NATS protocol: `PUB <inbox> <size>\r\n<envelope>\r\n` each, back to back. */
export interface AckPublishes {
  readonly bytes: Buffer;
  readonly messages: number;
  /** Envelope bytes (without the protocol lines). */
  readonly payloadBytes: number;
}

/**
 * Encodes the OK acks of one append as NATS PUB commands in one buffer (the envelopes are those of
 * `encodeAckBatch`), ready to be written to a NATS connection as they are; null when no message of
 * the batch gets an ack now. Inboxes must be valid NATS subjects (the transport checks them).
 */
export function encodeAckBatchAsPublishes(batch: AckBatchInput): AckPublishes | null {
  const encoded = writeAcks(batch, true);
  return encoded === null ? null : { bytes: encoded.bytes, messages: encoded.messages, payloadBytes: encoded.payloadBytes };
}

interface EncodedAcks {
  readonly bytes: Buffer;
  /** The inbox of each ack, in order (plain encoding; empty for publishes). */
  readonly inboxes: string[];
  readonly messages: number;
  /** Envelope start of each ack, then the end of the last (plain encoding; empty for publishes). */
  readonly starts: number[];
  readonly payloadBytes: number;
}

const ACK_ENVELOPE_HEADER = (() => {
  const header = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES);
  writeEnvelopeHeader(header, 0, MsgType.Ack);
  return header;
})();
const CR = 0x0d;
const LF = 0x0a;

function writeAcks(batch: AckBatchInput, asPublishes: boolean): EncodedAcks | null {
  const prefix = Buffer.concat([stringField(1, batch.stream), stringField(2, batch.partitionSubject)]);
  const suffix = Buffer.concat([int64Field(8, batch.receptionTimestampNs), int64Field(9, batch.commitTimestampNs)]);
  // Every ack is a few cached segments around its offset (and correlation id): envelope header,
  // stream, partition subject and message subject; the inbox field; the policy and timestamps.
  const heads = new LastValueCache((subject) => Buffer.concat([ACK_ENVELOPE_HEADER, prefix, stringField(3, subject)]));
  const inboxes = new LastValueCache((inbox) => stringField(5, inbox));
  const tails = new LastValueCache((policy: number) => Buffer.concat([policyField(policy), suffix]));
  const pubLines = new LastValueCache((inbox) => {
    // A subject with white space would break the protocol line (the transport refuses such inboxes).
    if (/\s/.test(inbox) || inbox === '') throw new Error(`ack inbox ${JSON.stringify(inbox)} is not a NATS subject`);
    return Buffer.from(`PUB ${inbox} `, 'utf8');
  });
  const { messages, onlyPolicy } = batch;
  const acked = (m: AckedMessage): boolean => wantsAck(m) && (onlyPolicy === undefined || m.ackPolicy === onlyPolicy);
  let total = 0;
  let payloadBytes = 0;
  const sizes: number[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (!acked(m)) continue;
    const size =
      heads.get(m.subject).length + offsetFieldSize(batch.firstOffset + i) + inboxes.get(m.ackInbox).length +
      correlationFieldSize(m.correlationId) + tails.get(m.ackPolicy).length;
    sizes.push(size);
    payloadBytes += size;
    total += size;
    if (asPublishes) total += pubLines.get(m.ackInbox).length + decimalDigits(size) + 4;
  }
  if (total === 0) return null;
  const buf = Buffer.allocUnsafe(total);
  const names: string[] = [];
  const starts: number[] = [];
  let count = 0;
  let pos = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (!acked(m)) continue;
    if (asPublishes) {
      const line = pubLines.get(m.ackInbox);
      buf.set(line, pos);
      pos = writeDecimal(buf, pos + line.length, sizes[count]!);
      buf[pos++] = CR;
      buf[pos++] = LF;
    } else {
      names.push(m.ackInbox);
    }
    const start = pos;
    const head = heads.get(m.subject);
    buf.set(head, pos);
    pos += head.length;
    const offset = batch.firstOffset + i;
    if (offset !== 0) {
      buf[pos++] = OFFSET_FIELD;
      pos = writeVarint64(buf, pos, hiWord(offset), loWord(offset));
    }
    const inbox = inboxes.get(m.ackInbox);
    buf.set(inbox, pos);
    pos += inbox.length;
    if (m.correlationId !== '') {
      const length = utf8Length(m.correlationId);
      buf[pos++] = (6 << 3) | 2;
      pos = writeVarint32(buf, pos, length);
      pos = writeUtf8(buf, pos, m.correlationId, length);
    }
    const tail = tails.get(m.ackPolicy);
    buf.set(tail, pos);
    pos += tail.length;
    if (pos - start !== sizes[count]) throw new Error('ack envelope sized wrongly');
    count++;
    if (asPublishes) {
      buf[pos++] = CR;
      buf[pos++] = LF;
    } else starts.push(start);
  }
  if (!asPublishes) starts.push(pos);
  if (pos !== total) throw new Error(`encodeAckBatch wrote ${pos} of ${total} bytes`);
  return { bytes: buf, inboxes: names, messages: count, starts, payloadBytes };
}

class LastValueCache<K extends string | number = string> {
  private key: K | null = null;
  private value: Buffer = Buffer.alloc(0);
  constructor(private readonly encode: (key: K) => Buffer) {}
  get(key: K): Buffer {
    if (key !== this.key) {
      this.key = key;
      this.value = this.encode(key);
    }
    return this.value;
  }
}

function stringField(fieldNumber: number, value: string): Buffer {
  if (value === '') return Buffer.alloc(0);
  const length = Buffer.byteLength(value);
  const buf = Buffer.allocUnsafe(1 + varint32Size(length) + length);
  buf[0] = (fieldNumber << 3) | 2;
  const p = writeVarint32(buf, 1, length);
  buf.write(value, p, 'utf8');
  return buf;
}

function int64Field(fieldNumber: number, value: bigint): Buffer {
  if (value === 0n) return Buffer.alloc(0);
  const hi = hiWord(value);
  const lo = loWord(value);
  const buf = Buffer.allocUnsafe(1 + varint64Size(hi, lo));
  buf[0] = fieldNumber << 3;
  writeVarint64(buf, 1, hi, lo);
  return buf;
}

const offsetFieldSize = (offset: number): number => (offset === 0 ? 0 : 1 + varint64Size(hiWord(offset), loWord(offset)));

function correlationFieldSize(id: string): number {
  if (id === '') return 0;
  const length = utf8Length(id);
  return 1 + varint32Size(length) + length;
}

function policyField(policy: number): Buffer {
  if (policy === 0) return Buffer.alloc(0);
  const buf = Buffer.allocUnsafe(1 + varint32Size(policy));
  buf[0] = ACK_POLICY_FIELD;
  writeVarint32(buf, 1, policy);
  return buf;
}

/** Writes `n` (a non-negative integer) in ASCII decimal; returns the position after it. */
function writeDecimal(buf: Buffer, pos: number, n: number): number {
  const end = pos + decimalDigits(n);
  for (let p = end - 1; p >= pos; p--) {
    buf[p] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return end;
}

function decimalDigits(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

/** UTF-8 length of `s`; its length when it is ASCII (correlation ids usually are), checked without a native call. */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

/** Writes `s` whose UTF-8 length is `length`; ASCII byte by byte (cheaper than a native call for short ids). */
function writeUtf8(buf: Buffer, pos: number, s: string, length: number): number {
  if (length !== s.length) return pos + buf.write(s, pos, 'utf8');
  for (let i = 0; i < length; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + length;
}
