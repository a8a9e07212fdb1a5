import { crc32c } from '@node-rs/crc32';
import type { Entry, EntryData, EntryType, HardState, Snapshot } from '../../../../domain/consensus/raft';

/**
 * On-disk records of the filesystem Raft storage. Every record is framed as
 * `[u32 payload length][u32 CRC-32C of the payload][payload]` (big-endian), in the WAL, the
 * hard-state file and the snapshot file alike.
 *
 * - entry payload: `[u64 index][u64 term][u8 type][u8 data kind][data]`;
 * - hard-state payload: UTF-8 JSON `{ term, vote, commit }`;
 * - snapshot payload: `[u64 index][u64 term][u32 voters length][voters JSON][u8 data kind][data]`.
 *
 * Data kind 0 is bytes, 1 is a UTF-8 string (`EntryData` is either).
 */
export const FRAME_HEADER_BYTES = 8;
/** A WAL record claiming more than this is garbage, not something to allocate for. */
export const WAL_RECORD_BYTES_MAX = 256 * 1024 * 1024;

const TYPE_CODES: Record<EntryType, number> = { normal: 0, noop: 1, 'conf-change': 2 };
const TYPES: readonly EntryType[] = ['normal', 'noop', 'conf-change'];

export function frame(payload: Buffer): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32c(payload), 4);
  return Buffer.concat([header, payload]);
}

/** The payload of the frame at `position`, or a reason why there is no valid frame there. */
export function readFrame(buf: Buffer, position: number, maxBytes: number): { payload: Buffer; end: number } | string {
  if (buf.length - position < FRAME_HEADER_BYTES) return 'short header';
  const length = buf.readUInt32BE(position);
  if (length > maxBytes) return `length ${length} is implausible`;
  const end = position + FRAME_HEADER_BYTES + length;
  if (end > buf.length) return `record of ${length} bytes runs past the end of the file`;
  const payload = buf.subarray(position + FRAME_HEADER_BYTES, end);
  if (crc32c(payload) !== buf.readUInt32BE(position + 4)) return 'CRC mismatch';
  return { payload, end };
}

function encodeData(data: EntryData): [number, Buffer] {
  return typeof data === 'string' ? [1, Buffer.from(data, 'utf8')] : [0, Buffer.from(data.buffer, data.byteOffset, data.byteLength)];
}

function decodeData(kind: number, bytes: Buffer): EntryData {
  if (kind === 1) return bytes.toString('utf8');
  if (kind === 0) return new Uint8Array(bytes);
  throw new Error(`unknown data kind ${kind}`);
}

function readPosition(buf: Buffer, at: number, what: string): number {
  const value = buf.readBigUInt64BE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${what} ${value} is not a safe integer`);
  return Number(value);
}

export function encodeEntry(entry: Entry): Buffer {
  const [kind, data] = encodeData(entry.data);
  const head = Buffer.allocUnsafe(18);
  head.writeBigUInt64BE(BigInt(entry.index), 0);
  head.writeBigUInt64BE(BigInt(entry.term), 8);
  head.writeUInt8(TYPE_CODES[entry.type], 16);
  head.writeUInt8(kind, 17);
  return frame(Buffer.concat([head, data]));
}

/** Throws on a payload that passed its CRC but does not decode (written by something else). */
export function decodeEntry(payload: Buffer): Entry {
  if (payload.length < 18) throw new Error(`entry payload of ${payload.length} bytes is too short`);
  const type = TYPES[payload.readUInt8(16)];
  if (type === undefined) throw new Error(`unknown entry type ${payload.readUInt8(16)}`);
  return {
    index: readPosition(payload, 0, 'index'),
    term: readPosition(payload, 8, 'term'),
    type,
    data: decodeData(payload.readUInt8(17), payload.subarray(18)),
  };
}

export function encodeHardState(hardState: HardState): Buffer {
  return frame(Buffer.from(JSON.stringify({ term: hardState.term, vote: hardState.vote, commit: hardState.commit }), 'utf8'));
}

export function decodeHardState(payload: Buffer): HardState {
  const value = JSON.parse(payload.toString('utf8')) as Partial<Record<keyof HardState, unknown>>;
  const { term, vote, commit } = value;
  if (!isPosition(term) || !isPosition(commit) || !(vote === null || typeof vote === 'string')) {
    throw new Error(`unexpected hard state ${payload.toString('utf8')}`);
  }
  return { term, vote, commit };
}

export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const voters = Buffer.from(JSON.stringify(snapshot.voters), 'utf8');
  const [kind, data] = encodeData(snapshot.data);
  const head = Buffer.allocUnsafe(20);
  head.writeBigUInt64BE(BigInt(snapshot.index), 0);
  head.writeBigUInt64BE(BigInt(snapshot.term), 8);
  head.writeUInt32BE(voters.length, 16);
  return frame(Buffer.concat([head, voters, Buffer.from([kind]), data]));
}

export function decodeSnapshot(payload: Buffer): Snapshot {
  if (payload.length < 21) throw new Error(`snapshot payload of ${payload.length} bytes is too short`);
  const votersEnd = 20 + payload.readUInt32BE(16);
  if (votersEnd + 1 > payload.length) throw new Error('voters run past the end of the payload');
  const voters = JSON.parse(payload.subarray(20, votersEnd).toString('utf8')) as unknown;
  if (!Array.isArray(voters) || !voters.every((v): v is string => typeof v === 'string')) throw new Error('voters are not a list of ids');
  return {
    index: readPosition(payload, 0, 'index'),
    term: readPosition(payload, 8, 'term'),
    voters,
    data: decodeData(payload.readUInt8(votersEnd), payload.subarray(votersEnd + 1)),
  };
}

const isPosition = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
