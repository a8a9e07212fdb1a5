import { ProtobufDecodeError } from './codec-errors';

/**
 * Protobuf wire-format primitives for the hand-written hot-path codecs (publish envelopes, acks,
 * Subscribe messages). Every read is bounds-checked against an explicit end, lengths are checked
 * against the bytes that remain before anything is sliced (so a claimed length never drives an
 * allocation), and every failure throws ProtobufDecodeError.
 *
 * 64-bit integers travel as two uint32 words (`hi`, `lo`) so that the hot paths need no bigint.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

/** Nesting bound for skipping unknown groups (proto2 leftovers; nothing we define uses them). */
const GROUP_DEPTH_MAX = 32;
const TWO_POW_32 = 4294967296;

/** The one-byte key of a field with a number below 16. */
export const fieldKey = (fieldNumber: number, wireType: number): number => (fieldNumber << 3) | wireType;

// ---------------------------------------------------------------------------------------------
// Reading

/** A cursor over `buf[pos, end)`. One instance per decode; `hi`/`lo` hold the last 64-bit varint. */
export class WireReader {
  pos: number;
  hi = 0;
  lo = 0;

  constructor(readonly buf: Buffer, start: number, readonly end: number) {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > buf.length) {
      throw new ProtobufDecodeError(`invalid range [${start}, ${end}) of a ${buf.length}-byte buffer`);
    }
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a varint of up to 10 bytes into `hi`/`lo` (uint32 words). */
  readVarint64(): void {
    const { buf, end } = this;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw this.fail('truncated varint');
      const b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) return this.setVarint(pos, hi, lo);
    }
    if (pos >= end) throw this.fail('truncated varint');
    let b = buf[pos++]!;
    lo |= (b & 0x7f) << 28;
    hi |= (b & 0x7f) >>> 4;
    if (b < 0x80) return this.setVarint(pos, hi, lo);
    for (let shift = 3; shift < 38; shift += 7) {
      if (pos >= end) throw this.fail('truncated varint');
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) return this.setVarint(pos, hi, lo);
    }
    throw this.fail('varint longer than 10 bytes');
  }

  private setVarint(pos: number, hi: number, lo: number): void {
    this.pos = pos;
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
  }

  /** Reads a field key; returns it (field number = key >>> 3, wire type = key & 7). */
  readKey(): number {
    this.readVarint64();
    const key = this.lo;
    if (this.hi !== 0 || key >>> 3 === 0) throw this.fail(`invalid field key ${key}`);
    return key;
  }

  /** A varint as int32 (protobuf truncates to the low 32 bits, as protobufjs and Go do). */
  readInt32(): number {
    this.readVarint64();
    return this.lo | 0;
  }

  readBool(): boolean {
    this.readVarint64();
    return this.lo !== 0 || this.hi !== 0;
  }

  /** A varint as a signed int64 JS number; throws when it is not a safe integer. */
  readInt64AsNumber(what: string): number {
    this.readVarint64();
    const value = (this.hi | 0) * TWO_POW_32 + this.lo;
    if (!Number.isSafeInteger(value)) throw this.fail(`${what} is outside the safe integer range`);
    return value;
  }

  /**
   * A varint as a signed int64 bigint (two's complement). The usual values (-1, offsets, Unix
   * nanoseconds) go through a number, which is exact whenever the result is a safe integer; only
   * the rest pay for bigint shifts.
   */
  readInt64(): bigint {
    this.readVarint64();
    const n = (this.hi | 0) * TWO_POW_32 + this.lo;
    if (Number.isSafeInteger(n)) return BigInt(n);
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  /** An int32 field whose key `tag` was just read: checks that it is a varint, then reads it. */
  readInt32Field(tag: number): number {
    this.expectWireType(tag, WIRE_VARINT);
    return this.readInt32();
  }

  /** An int64 field whose key `tag` was just read, as a bigint: checks that it is a varint, then reads it. */
  readInt64Field(tag: number): bigint {
    this.expectWireType(tag, WIRE_VARINT);
    return this.readInt64();
  }

  /** Reads a length prefix and returns the start of the payload; the payload ends at `pos`. */
  readLengthDelimited(): number {
    this.readVarint64();
    const remaining = this.end - this.pos;
    if (this.hi !== 0 || this.lo > remaining) {
      throw this.fail(`length ${this.hi === 0 ? this.lo : 'over 2^32'} past the end (${remaining} bytes left)`);
    }
    const start = this.pos;
    this.pos += this.lo;
    return start;
  }

  /** Skips one field of the given wire type (the key has been read). */
  skip(wireType: number, fieldNumber: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.readVarint64();
        return;
      case WIRE_FIXED64:
        return this.skipBytes(8);
      case WIRE_LENGTH_DELIMITED:
        this.readLengthDelimited();
        return;
      case WIRE_FIXED32:
        return this.skipBytes(4);
      case WIRE_START_GROUP:
        return this.skipGroup(fieldNumber);
      default:
        throw this.fail(`unexpected wire type ${wireType} for field ${fieldNumber}`);
    }
  }

  private skipBytes(count: number): void {
    if (this.end - this.pos < count) throw this.fail('truncated fixed-width field');
    this.pos += count;
  }

  /** Skips nested groups iteratively, with a bounded depth (no recursion on hostile input). */
  private skipGroup(fieldNumber: number): void {
    const open: number[] = [fieldNumber];
    while (open.length > 0) {
      if (this.done) throw this.fail('unterminated group');
      const key = this.readKey();
      const wireType = key & 7;
      const number = key >>> 3;
      if (wireType === WIRE_END_GROUP) {
        if (open.pop() !== number) throw this.fail('mismatched end group');
      } else if (wireType === WIRE_START_GROUP) {
        if (open.length >= GROUP_DEPTH_MAX) throw this.fail('groups nested too deeply');
        open.push(number);
      } else {
        this.skip(wireType, number);
      }
    }
  }

  /** Throws unless the key's wire type is the one the field is declared with. */
  expectWireType(key: number, wireType: number): void {
    if ((key & 7) !== wireType) {
      throw this.fail(`field ${key >>> 3} has wire type ${key & 7}, expected ${wireType}`);
    }
  }

  fail(reason: string): ProtobufDecodeError {
    return new ProtobufDecodeError(`malformed protobuf at byte ${this.pos}: ${reason}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Sizing and writing. Writers take (buf, pos, ...) and return the position after what they wrote;
// callers size the output first and allocate once.

/** Bytes of an unsigned 32-bit varint. */
export function varint32Size(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Bytes of a 64-bit varint given as uint32 words. */
export function varint64Size(hi: number, lo: number): number {
  if (hi === 0) return varint32Size(lo);
  if (hi < 0x8) return 5;
  if (hi < 0x400) return 6;
  if (hi < 0x20000) return 7;
  if (hi < 0x1000000) return 8;
  if (hi < 0x80000000) return 9;
  return 10;
}

/** Bytes of an int32 varint (negative values are sign-extended to 10 bytes, as protobuf requires). */
export const int32Size = (value: number): number => (value < 0 ? 10 : varint32Size(value));

export function writeVarint32(buf: Buffer, pos: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

export function writeVarint64(buf: Buffer, pos: number, hi: number, lo: number): number {
  let h = hi >>> 0;
  let l = lo >>> 0;
  while (h !== 0 || l >= 0x80) {
    buf[pos++] = (l & 0x7f) | 0x80;
    l = ((l >>> 7) | (h << 25)) >>> 0;
    h >>>= 7;
  }
  buf[pos++] = l;
  return pos;
}

export function writeInt32(buf: Buffer, pos: number, value: number): number {
  return value < 0 ? writeVarint64(buf, pos, 0xffffffff, value >>> 0) : writeVarint32(buf, pos, value);
}

/** High uint32 word of a 64-bit integer given as bigint or safe-integer number (two's complement). */
export function hiWord(value: bigint | number): number {
  return typeof value === 'bigint'
    ? Number(BigInt.asUintN(32, value >> 32n))
    : Math.floor(value / TWO_POW_32) >>> 0;
}

/** Low uint32 word of a 64-bit integer given as bigint or safe-integer number. */
export function loWord(value: bigint | number): number {
  return typeof value === 'bigint' ? Number(BigInt.asUintN(32, value)) : value >>> 0;
}

/** Throws unless `value` is representable as an int64 (safe-integer number or in-range bigint). */
export function assertInt64(value: bigint | number, what: string): void {
  const ok = typeof value === 'bigint' ? BigInt.asIntN(64, value) === value : Number.isSafeInteger(value);
  if (!ok) throw new RangeError(`${what} is not an int64: ${String(value)}`);
}

/** Size of a length-delimited field (key below 16) with a payload of `length` bytes. */
export const lengthDelimitedFieldSize = (length: number): number => 1 + varint32Size(length) + length;

export function writeBytesField(
  buf: Buffer, pos: number, fieldNumber: number, src: Uint8Array, srcStart: number, srcEnd: number,
): number {
  buf[pos++] = fieldKey(fieldNumber, WIRE_LENGTH_DELIMITED);
  pos = writeVarint32(buf, pos, srcEnd - srcStart);
  buf.set(src.subarray(srcStart, srcEnd), pos);
  return pos + (srcEnd - srcStart);
}

export function writeStringField(buf: Buffer, pos: number, fieldNumber: number, value: string, byteLength: number): number {
  buf[pos++] = fieldKey(fieldNumber, WIRE_LENGTH_DELIMITED);
  pos = writeVarint32(buf, pos, byteLength);
  return pos + buf.write(value, pos, byteLength, 'utf8');
}
