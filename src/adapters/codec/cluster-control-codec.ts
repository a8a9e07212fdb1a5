import type { BrokerHeartbeat, ForwardedAnswer } from '../../application/ports/cluster-channel.port';
import type { MetadataCommand } from '../../domain/metadata/metadata-commands';
import { isReadableSchemaVersion, METADATA_SCHEMA_VERSION } from '../../domain/metadata/schema/metadata-schema';
import { CodecError } from '../../protocol/codec-errors';
import { MsgType, unwrapEnvelope, wrapEnvelope } from '../../protocol/envelope';
import { decodeInternalMessage, encodeInternalMessage } from './internal-proto';

/**
 * Control traffic between liftbridge-ts servers (docs/cluster.md "Wire"):
 * - join request/response: Liftbridge's `RaftJoinRequest`/`RaftJoinResponse` protobufs (docs/protocol.md "Internal messages") (MsgType 4/5);
 * - heartbeats: a `ServerInfoResponse` protobuf (MsgType 11) published to every server;
 * - forwarded metadata commands and answers: our own MsgTypes ≥ 100 with a JSON payload, because
 *   our commands are not Go's `PropagatedRequest` ops (TS-only clusters, docs/compatibility.md),
 *   versioned by the metadata schema (metadata-schema.ts).
 */
export const FORWARDED_COMMAND_MSG_TYPE = 101 as MsgType;
export const FORWARDED_ANSWER_MSG_TYPE = 102 as MsgType;

export class ClusterControlDecodeError extends CodecError {}

/** Every command type, typed so that a command added to metadata-commands.ts fails to compile here until listed. */
const FORWARDABLE: { readonly [T in MetadataCommand['type']]: true } = {
  RegisterBroker: true, SetBrokerReachable: true, ShrinkIsr: true, ExpandIsr: true, ChangePartitionLeader: true, ReportLeader: true, VacateBroker: true,
  CreateStream: true, DeleteStream: true, PauseStream: true, ResumeStream: true, SetStreamReadonly: true,
  RecordActivityPublished: true, JoinConsumerGroup: true, LeaveConsumerGroup: true, ReportGroupCoordinator: true, ChangeGroupCoordinator: true,
};
const COMMAND_TYPES: ReadonlySet<string> = new Set(Object.keys(FORWARDABLE));

function parseJson(bytes: Uint8Array, type: MsgType, what: string): Record<string, unknown> {
  const payload = unwrapEnvelope(bytes, type);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (error) {
    throw new ClusterControlDecodeError(`${what} is not UTF-8 JSON`, { cause: error });
  }
  if (typeof raw !== 'object' || raw === null || !isReadableSchemaVersion((raw as { v?: unknown }).v)) {
    throw new ClusterControlDecodeError(`${what} has an unknown schema version`);
  }
  return raw as Record<string, unknown>;
}

export const encodeForwardedCommand = (command: MetadataCommand): Buffer =>
  wrapEnvelope(FORWARDED_COMMAND_MSG_TYPE, Buffer.from(JSON.stringify({ v: METADATA_SCHEMA_VERSION, command }), 'utf8'), { crc: true });

/** The command's shape is checked here (type and data object); its values are the domain's to judge. */
export function decodeForwardedCommand(bytes: Uint8Array): MetadataCommand {
  const { command } = parseJson(bytes, FORWARDED_COMMAND_MSG_TYPE, 'forwarded command');
  const c = command as { type?: unknown; data?: unknown } | null;
  if (typeof c !== 'object' || c === null || typeof c.type !== 'string' || !COMMAND_TYPES.has(c.type) || typeof c.data !== 'object' || c.data === null) {
    throw new ClusterControlDecodeError('forwarded command has no known type or no data');
  }
  return c as MetadataCommand;
}

export const encodeForwardedAnswer = (answer: ForwardedAnswer): Buffer =>
  wrapEnvelope(FORWARDED_ANSWER_MSG_TYPE, Buffer.from(JSON.stringify({ v: METADATA_SCHEMA_VERSION, answer }), 'utf8'), { crc: true });

export function decodeForwardedAnswer(bytes: Uint8Array): ForwardedAnswer {
  const { answer } = parseJson(bytes, FORWARDED_ANSWER_MSG_TYPE, 'forwarded answer');
  const a = answer as Record<string, unknown> | null;
  const valid =
    typeof a === 'object' && a !== null &&
    ((a.kind === 'applied' && Array.isArray(a.events) && Number.isSafeInteger(a.index)) ||
      (a.kind === 'refused' && typeof a.error === 'object' && a.error !== null && typeof (a.error as { kind?: unknown }).kind === 'string') ||
      (a.kind === 'unavailable' && typeof a.reason === 'string'));
  if (!valid) throw new ClusterControlDecodeError('forwarded answer is malformed');
  return a as unknown as ForwardedAnswer;
}

export const encodeJoinRequest = (serverId: string): Buffer =>
  wrapEnvelope(MsgType.RaftJoinRequest, encodeInternalMessage('RaftJoinRequest', { nodeID: serverId, nodeAddr: serverId }));

export function decodeJoinRequest(bytes: Uint8Array): string {
  const message = decodeInternalMessage('RaftJoinRequest', unwrapEnvelope(bytes, MsgType.RaftJoinRequest));
  const id = message['nodeID'];
  if (typeof id !== 'string' || id.length === 0) throw new ClusterControlDecodeError('join request has no node id');
  return id;
}

export const encodeJoinResponse = (error: string): Buffer =>
  wrapEnvelope(MsgType.RaftJoinResponse, encodeInternalMessage('RaftJoinResponse', { error }));

export function decodeJoinResponse(bytes: Uint8Array): string {
  const message = decodeInternalMessage('RaftJoinResponse', unwrapEnvelope(bytes, MsgType.RaftJoinResponse));
  return typeof message['error'] === 'string' ? message['error'] : '';
}

export const encodeHeartbeat = (beat: BrokerHeartbeat): Buffer =>
  wrapEnvelope(MsgType.ServerInfoResponse, encodeInternalMessage('ServerInfoResponse', { id: beat.id, host: beat.host, port: beat.port }));

export function decodeHeartbeat(bytes: Uint8Array): BrokerHeartbeat {
  const m = decodeInternalMessage('ServerInfoResponse', unwrapEnvelope(bytes, MsgType.ServerInfoResponse));
  const { id, host, port } = m as { id?: unknown; host?: unknown; port?: unknown };
  if (typeof id !== 'string' || id.length === 0 || typeof host !== 'string' || typeof port !== 'number') {
    throw new ClusterControlDecodeError('heartbeat is missing id, host or port');
  }
  return { id, host, port };
}
