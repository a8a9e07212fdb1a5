import { MsgType, writeEnvelopeHeader, ENVELOPE_HEADER_BYTES } from './envelope';
import { hiWord, loWord, varint32Size, varint64Size, writeVarint32, writeVarint64 } from './protobuf-wire';

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
 * Encodes the OK acks of one append (MsgType-1 envelopes around `proto.Ack`, spec §1.4) into one
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
  return encoded === null ? null : { bytes: encoded.bytes, messages: encoded.inboxes.length, payloadBytes: encoded.payloadBytes };
}

interface EncodedAcks {
  readonly bytes: Buffer;
  /** The inbox of each ack, in order. */
  readonly inboxes: string[];
  /** Envelope start of each ack, then the end of the last (plain encoding; empty for publishes). */
  readonly starts: number[];
  readonly payloadBytes: number;
}

const PUB = Buffer.from('PUB ', 'latin1');
const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;

function writeAcks(batch: AckBatchInput, asPublishes: boolean): EncodedAcks | null {
  const prefix = Buffer.concat([stringField(1, batch.stream), stringField(2, batch.partitionSubject)]);
  const suffix = Buffer.concat([int64Field(8, batch.receptionTimestampNs), int64Field(9, batch.commitTimestampNs)]);
  const subjects = new LastValueCache((s) => stringField(3, s));
  const inboxes = new LastValueCache((s) => stringField(5, s));
  const inboxNames = new LastValueCache((s) => {
    // A subject with white space would break the protocol line (the transport refuses such inboxes).
    if (/\s/.test(s) || s === '') throw new Error(`ack inbox ${JSON.stringify(s)} is not a NATS subject`);
    return Buffer.from(s, 'utf8');
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
      ENVELOPE_HEADER_BYTES + prefix.length + subjects.get(m.subject).length + offsetFieldSize(batch.firstOffset + i) +
      inboxes.get(m.ackInbox).length + correlationFieldSize(m.correlationId) + policyFieldSize(m.ackPolicy) + suffix.length;
    sizes.push(size);
    payloadBytes += size;
    total += size;
    if (asPublishes) total += PUB.length + inboxNames.get(m.ackInbox).length + 1 + decimalDigits(size) + 4;
  }
  if (total === 0) return null;
  const buf = Buffer.allocUnsafe(total);
  const names: string[] = [];
  const starts: number[] = [];
  let pos = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (!acked(m)) continue;
    if (asPublishes) {
      pos += PUB.copy(buf, pos);
      pos += inboxNames.get(m.ackInbox).copy(buf, pos);
      buf[pos++] = SPACE;
      pos = writeDecimal(buf, pos, sizes[names.length]!);
      buf[pos++] = CR;
      buf[pos++] = LF;
    }
    names.push(m.ackInbox);
    const start = pos;
    pos = writeEnvelopeHeader(buf, pos, MsgType.Ack) + pos;
    pos += prefix.copy(buf, pos);
    pos += subjects.get(m.subject).copy(buf, pos);
    const offset = batch.firstOffset + i;
    if (offset !== 0) {
      buf[pos++] = OFFSET_FIELD;
      pos = writeVarint64(buf, pos, hiWord(offset), loWord(offset));
    }
    pos += inboxes.get(m.ackInbox).copy(buf, pos);
    if (m.correlationId !== '') {
      const length = Buffer.byteLength(m.correlationId);
      buf[pos++] = (6 << 3) | 2;
      pos = writeVarint32(buf, pos, length);
      pos += buf.write(m.correlationId, pos, 'utf8');
    }
    if (m.ackPolicy !== 0) {
      buf[pos++] = ACK_POLICY_FIELD;
      pos = writeVarint32(buf, pos, m.ackPolicy);
    }
    pos += suffix.copy(buf, pos);
    if (pos - start !== sizes[names.length - 1]) throw new Error('ack envelope sized wrongly');
    if (asPublishes) {
      buf[pos++] = CR;
      buf[pos++] = LF;
    } else starts.push(start);
  }
  if (!asPublishes) starts.push(pos);
  if (pos !== total) throw new Error(`encodeAckBatch wrote ${pos} of ${total} bytes`);
  return { bytes: buf, inboxes: names, starts, payloadBytes };
}

class LastValueCache {
  private key: string | null = null;
  private value: Buffer = Buffer.alloc(0);
  constructor(private readonly encode: (key: string) => Buffer) {}
  get(key: string): Buffer {
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
  const length = Buffer.byteLength(id);
  return 1 + varint32Size(length) + length;
}

const policyFieldSize = (policy: number): number => (policy === 0 ? 0 : 1 + varint32Size(policy));

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
