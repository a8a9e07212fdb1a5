import type { Entry, EntryData, EntryType, RaftMessage, Snapshot } from '../../domain/consensus/raft';
import { CodecError } from '../../protocol/codec-errors';
import { MsgType, unwrapEnvelope, wrapEnvelope } from '../../protocol/envelope';

/**
 * Wire format of the Raft core's messages (docs/raft.md "Transport"):
 *
 *   Liftbridge envelope (docs/protocol.md "Envelope") with the CRC-32C flag set and MsgType RAFT_MESSAGE_MSG_TYPE
 *   | UTF-8 JSON of the message, in which every `EntryData` becomes `{"s":"<string>"}` or
 *   `{"b":"<base64>"}` so that strings and bytes round-trip exactly.
 *
 * Decoding checks every field (type, integer ranges, entry types) and throws `RaftMessageDecodeError`
 * for anything else; it never returns a half-valid message.
 */

/**
 * Our own MsgType for Raft messages. Liftbridge's MsgTypes stop at 14 (docs/protocol.md "MsgType values"); values ≥ 100 are
 * reserved for liftbridge-ts internal traffic that Go servers never see.
 */
export const RAFT_MESSAGE_MSG_TYPE = 100 as MsgType;

/** Bytes that are not a valid encoded RaftMessage. */
export class RaftMessageDecodeError extends CodecError {}

type WireData = { readonly s: string } | { readonly b: string };

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'noop', 'conf-change'];

export function encodeRaftMessage(message: RaftMessage): Buffer {
  return wrapEnvelope(RAFT_MESSAGE_MSG_TYPE, Buffer.from(toJson(message), 'utf8'), { crc: true });
}

/** JSON with every EntryData replaced by its tagged form. */
function toJson(message: RaftMessage): string {
  const data = (d: EntryData): WireData => (typeof d === 'string' ? { s: d } : { b: Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64') });
  const entry = (e: Entry) => ({ index: e.index, term: e.term, type: e.type, data: data(e.data) });
  switch (message.type) {
    case 'AppendEntries':
      return JSON.stringify({ ...message, entries: message.entries.map(entry) });
    case 'InstallSnapshot':
      return JSON.stringify({ ...message, snapshot: { ...message.snapshot, voters: [...message.snapshot.voters], data: data(message.snapshot.data) } });
    default:
      return JSON.stringify(message);
  }
}

/** Decodes one message produced by `encodeRaftMessage`; throws `RaftMessageDecodeError` (or `EnvelopeError`, also a CodecError). */
export function decodeRaftMessage(bytes: Uint8Array): RaftMessage {
  const payload = unwrapEnvelope(bytes, RAFT_MESSAGE_MSG_TYPE);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (error) {
    throw new RaftMessageDecodeError('raft message payload is not UTF-8 JSON', { cause: error });
  }
  return parseMessage(raw);
}

function parseMessage(raw: unknown): RaftMessage {
  const o = record(raw, 'message');
  const from = str(o, 'from');
  const to = str(o, 'to');
  const term = int(o, 'term');
  const type = o['type'];
  switch (type) {
    case 'AppendEntries':
      return {
        type, from, to, term,
        prevLogIndex: int(o, 'prevLogIndex'),
        prevLogTerm: int(o, 'prevLogTerm'),
        entries: array(o, 'entries').map(parseEntry),
        commit: int(o, 'commit'),
      };
    case 'AppendEntriesResult':
      return {
        type, from, to, term,
        reject: bool(o, 'reject'),
        index: int(o, 'index'),
        rejectHintIndex: int(o, 'rejectHintIndex'),
        rejectHintTerm: int(o, 'rejectHintTerm'),
      };
    case 'RequestVote': {
      const request = { type, from, to, term, preVote: bool(o, 'preVote'), lastLogIndex: int(o, 'lastLogIndex'), lastLogTerm: int(o, 'lastLogTerm') } as const;
      // Optional (leadership transfer); servers without transfers never send it.
      return o['leadershipTransfer'] === undefined ? request : { ...request, leadershipTransfer: bool(o, 'leadershipTransfer') };
    }
    case 'RequestVoteResult':
      return { type, from, to, term, preVote: bool(o, 'preVote'), reject: bool(o, 'reject') };
    case 'Heartbeat':
      return { type, from, to, term, commit: int(o, 'commit') };
    case 'HeartbeatResult':
      return { type, from, to, term };
    case 'InstallSnapshot':
      return { type, from, to, term, snapshot: parseSnapshot(o['snapshot']) };
    case 'TimeoutNow':
      return { type, from, to, term };
    default:
      throw new RaftMessageDecodeError(`unknown raft message type ${JSON.stringify(type)}`);
  }
}

function parseEntry(raw: unknown): Entry {
  const o = record(raw, 'entry');
  const type = o['type'];
  if (!ENTRY_TYPES.includes(type as EntryType)) throw new RaftMessageDecodeError(`unknown entry type ${JSON.stringify(type)}`);
  return { index: int(o, 'index'), term: int(o, 'term'), type: type as EntryType, data: parseData(o['data']) };
}

function parseSnapshot(raw: unknown): Snapshot {
  const o = record(raw, 'snapshot');
  const voters = array(o, 'voters').map((v) => {
    if (typeof v !== 'string') throw new RaftMessageDecodeError('snapshot voters must be strings');
    return v;
  });
  return { index: int(o, 'index'), term: int(o, 'term'), voters, data: parseData(o['data']) };
}

function parseData(raw: unknown): EntryData {
  const o = record(raw, 'data');
  const keys = Object.keys(o);
  if (keys.length === 1 && typeof o['s'] === 'string') return o['s'];
  if (keys.length === 1 && typeof o['b'] === 'string') {
    const b64 = o['b'];
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) throw new RaftMessageDecodeError('entry data is not valid base64');
    const buf = Buffer.from(b64, 'base64');
    return new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  }
  throw new RaftMessageDecodeError('entry data must be {"s": string} or {"b": base64}');
}

function record(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RaftMessageDecodeError(`${what} must be a JSON object`);
  return raw as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new RaftMessageDecodeError(`${key} must be a string`);
  return v;
}

function int(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new RaftMessageDecodeError(`${key} must be a non-negative safe integer`);
  return v;
}

function bool(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new RaftMessageDecodeError(`${key} must be a boolean`);
  return v;
}

function array(o: Record<string, unknown>, key: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new RaftMessageDecodeError(`${key} must be an array`);
  return v;
}
