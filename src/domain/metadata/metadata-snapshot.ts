import { BrokerState } from '../cluster/cluster-state';
import { EventTimestamps, PartitionState } from '../partition/partition-state';
import { GroupMember, GroupState } from '../group/group-state';
import { assert } from '../shared/assert';
import { StreamState } from '../stream/stream-state';
import { MetadataState } from './metadata-state';
import { jsonFields } from './schema/json-fields';
import { isReadableSchemaVersion, METADATA_SCHEMA_VERSION, MetadataDecodeError } from './schema/metadata-schema';

/** The data is not a metadata snapshot this version can read (garbage, another version, a bad field). */
export class MetadataSnapshotDecodeError extends MetadataDecodeError {
  override readonly name = 'MetadataSnapshotDecodeError';
  constructor(detail: string) {
    super(`invalid metadata snapshot: ${detail}`);
  }
}

const read = jsonFields((detail) => new MetadataSnapshotDecodeError(detail));

/**
 * The whole metadata state as one JSON document (docs/raft.md "Driver and metadata log"):
 * `{ v, lastAppliedIndex, brokers: BrokerState[], streams: StreamState[], groups: GroupState[] }`, the Maps as arrays of
 * their values (each value carries its key). Deterministic for a given state.
 */
export function encodeMetadataSnapshot(state: MetadataState): string {
  const brokers: BrokerState[] = [];
  for (const [id, broker] of state.brokers) {
    assert(id === broker.id, `broker map key ${id} holds broker ${broker.id}`);
    brokers.push(broker);
  }
  const streams: StreamState[] = [];
  for (const [name, stream] of state.streams) {
    assert(name === stream.name, `stream map key ${name} holds stream ${stream.name}`);
    streams.push(stream);
  }
  const groups: GroupState[] = [];
  for (const [id, group] of state.groups) {
    assert(id === group.id, `group map key ${id} holds group ${group.id}`);
    groups.push(group);
  }
  return JSON.stringify({ v: METADATA_SCHEMA_VERSION, lastAppliedIndex: state.lastAppliedIndex, brokers, streams, groups, activityPublishedUpTo: state.activityPublishedUpTo });
}

/**
 * The state encoded by `encodeMetadataSnapshot` (any readable schema version); throws
 * `MetadataSnapshotDecodeError` on anything else. Every object is rebuilt field by field (nothing
 * unchecked passes through), so a field added to the state types fails to compile here until the
 * decoder reads it.
 */
export function decodeMetadataSnapshot(data: string | Uint8Array): MetadataState {
  if (typeof data !== 'string') throw new MetadataSnapshotDecodeError('expected a JSON string, got bytes');
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new MetadataSnapshotDecodeError('not JSON');
  }
  const root = read.record(parsed, 'snapshot');
  if (!isReadableSchemaVersion(root.v)) throw new MetadataSnapshotDecodeError(`unknown schema version ${JSON.stringify(root.v)}`);
  const schema = root.v;
  const lastAppliedIndex = read.index(root.lastAppliedIndex, 'lastAppliedIndex');
  const brokers = new Map<string, BrokerState>();
  for (const [i, value] of read.array(root.brokers, 'brokers').entries()) {
    const broker = decodeBroker(value, `brokers[${i}]`, schema);
    if (brokers.has(broker.id)) throw new MetadataSnapshotDecodeError(`broker ${broker.id} appears twice`);
    brokers.set(broker.id, broker);
  }
  const streams = new Map<string, StreamState>();
  for (const [i, value] of read.array(root.streams, 'streams').entries()) {
    const stream = decodeStream(value, `streams[${i}]`);
    if (streams.has(stream.name)) throw new MetadataSnapshotDecodeError(`stream ${stream.name} appears twice`);
    streams.set(stream.name, stream);
  }
  // Schema 1 kept no activity progress (nothing was published then).
  const activityPublishedUpTo = schema === 1 ? 0 : read.index(root.activityPublishedUpTo, 'activityPublishedUpTo');
  return { brokers, streams, groups: decodeGroups(root.groups, schema), activityPublishedUpTo, lastAppliedIndex };
}

/** Schema 1 had no consumer groups; schema 2 lists them (possibly none). */
function decodeGroups(value: unknown, schema: 1 | 2): Map<string, GroupState> {
  const groups = new Map<string, GroupState>();
  if (schema === 1 && value === undefined) return groups;
  for (const [i, item] of read.array(value, 'groups').entries()) {
    const group = decodeGroup(item, `groups[${i}]`);
    if (groups.has(group.id)) throw new MetadataSnapshotDecodeError(`group ${group.id} appears twice`);
    groups.set(group.id, group);
  }
  return groups;
}

function decodeGroup(value: unknown, at: string): GroupState {
  const r = read.record(value, at);
  const members = read.array(r.members, `${at}.members`).map((m, i): GroupMember => {
    const member = read.record(m, `${at}.members[${i}]`);
    return { id: read.string(member.id, `${at}.members[${i}].id`), streams: read.strings(member.streams, `${at}.members[${i}].streams`) };
  });
  if (members.length === 0) throw new MetadataSnapshotDecodeError(`${at} has no members`);
  if (new Set(members.map((m) => m.id)).size !== members.length) throw new MetadataSnapshotDecodeError(`${at} lists a member twice`);
  return {
    id: read.string(r.id, `${at}.id`),
    coordinator: read.string(r.coordinator, `${at}.coordinator`),
    epoch: read.index(r.epoch, `${at}.epoch`),
    members,
  };
}

function decodeBroker(value: unknown, at: string, schema: 1 | 2): BrokerState {
  const r = read.record(value, at);
  return {
    id: read.string(r.id, `${at}.id`),
    host: read.string(r.host, `${at}.host`),
    port: read.index(r.port, `${at}.port`),
    reachable: read.boolean(r.reachable, `${at}.reachable`),
    // Schema 1 kept no broker versions; any value works as long as later changes move it.
    version: schema === 1 ? 0 : read.index(r.version, `${at}.version`),
  };
}

function decodeStream(value: unknown, at: string): StreamState {
  const r = read.record(value, at);
  const name = read.string(r.name, `${at}.name`);
  const partitions = read.array(r.partitions, `${at}.partitions`).map((p, i) => decodePartition(p, `${at}.partitions[${i}]`));
  partitions.forEach((p, i) => {
    if (p.id !== i || p.stream !== name) throw new MetadataSnapshotDecodeError(`${at}.partitions[${i}] is ${p.stream}/${p.id}`);
  });
  return {
    name,
    subject: read.string(r.subject, `${at}.subject`),
    group: read.string(r.group, `${at}.group`),
    replicationFactor: read.index(r.replicationFactor, `${at}.replicationFactor`),
    config: read.config(r.config, `${at}.config`),
    creationTimestampNs: read.decimal(r.creationTimestampNs, `${at}.creationTimestampNs`),
    partitions,
    resumeAll: read.boolean(r.resumeAll, `${at}.resumeAll`),
    version: read.index(r.version, `${at}.version`),
  };
}

function decodePartition(value: unknown, at: string): PartitionState {
  const r = read.record(value, at);
  return {
    stream: read.string(r.stream, `${at}.stream`),
    id: read.index(r.id, `${at}.id`),
    subject: read.string(r.subject, `${at}.subject`),
    group: read.string(r.group, `${at}.group`),
    replicationFactor: read.index(r.replicationFactor, `${at}.replicationFactor`),
    replicas: read.strings(r.replicas, `${at}.replicas`),
    isr: read.strings(r.isr, `${at}.isr`),
    leader: read.string(r.leader, `${at}.leader`),
    leaderEpoch: read.index(r.leaderEpoch, `${at}.leaderEpoch`),
    epoch: read.index(r.epoch, `${at}.epoch`),
    paused: read.boolean(r.paused, `${at}.paused`),
    readonly: read.boolean(r.readonly, `${at}.readonly`),
    pauseTimestamps: decodeTimestamps(r.pauseTimestamps, `${at}.pauseTimestamps`),
    readonlyTimestamps: decodeTimestamps(r.readonlyTimestamps, `${at}.readonlyTimestamps`),
  };
}

function decodeTimestamps(value: unknown, at: string): EventTimestamps {
  const r = read.record(value, at);
  return { firstNs: read.decimal(r.firstNs, `${at}.firstNs`), latestNs: read.decimal(r.latestNs, `${at}.latestNs`) };
}
