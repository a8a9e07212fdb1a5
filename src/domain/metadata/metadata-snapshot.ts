import { BrokerState } from '../cluster/cluster-state';
import { EventTimestamps, PartitionState } from '../partition/partition-state';
import { assert } from '../shared/assert';
import { StreamConfig } from '../stream/stream-config';
import { StreamState } from '../stream/stream-state';
import { MetadataState } from './metadata-state';

/** Bumped on any change to the encoded shape; a decoder refuses versions it does not know. */
export const METADATA_SNAPSHOT_VERSION = 1;

/** The data is not a metadata snapshot this version can read (garbage, another version, a bad field). */
export class MetadataSnapshotDecodeError extends Error {
  override readonly name = 'MetadataSnapshotDecodeError';
  constructor(detail: string) {
    super(`invalid metadata snapshot: ${detail}`);
  }
}

/**
 * The whole metadata state as one JSON document (docs/raft.md "Driver and metadata log"):
 * `{ v, lastAppliedIndex, brokers: BrokerState[], streams: StreamState[] }`, the Maps as arrays of
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
  return JSON.stringify({ v: METADATA_SNAPSHOT_VERSION, lastAppliedIndex: state.lastAppliedIndex, brokers, streams });
}

/**
 * The state encoded by `encodeMetadataSnapshot`; throws `MetadataSnapshotDecodeError` on anything else.
 * Every object is rebuilt field by field (nothing unchecked passes through), so a field added to the
 * state types fails to compile here until the decoder reads it.
 */
export function decodeMetadataSnapshot(data: string | Uint8Array): MetadataState {
  if (typeof data !== 'string') throw new MetadataSnapshotDecodeError('expected a JSON string, got bytes');
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new MetadataSnapshotDecodeError('not JSON');
  }
  const root = record(parsed, 'snapshot');
  if (root.v !== METADATA_SNAPSHOT_VERSION) throw new MetadataSnapshotDecodeError(`unknown schema version ${JSON.stringify(root.v)}`);
  const lastAppliedIndex = index(root.lastAppliedIndex, 'lastAppliedIndex');
  const brokers = new Map<string, BrokerState>();
  for (const [i, value] of array(root.brokers, 'brokers').entries()) {
    const broker = decodeBroker(value, `brokers[${i}]`);
    if (brokers.has(broker.id)) throw new MetadataSnapshotDecodeError(`broker ${broker.id} appears twice`);
    brokers.set(broker.id, broker);
  }
  const streams = new Map<string, StreamState>();
  for (const [i, value] of array(root.streams, 'streams').entries()) {
    const stream = decodeStream(value, `streams[${i}]`);
    if (streams.has(stream.name)) throw new MetadataSnapshotDecodeError(`stream ${stream.name} appears twice`);
    streams.set(stream.name, stream);
  }
  return { brokers, streams, lastAppliedIndex };
}

function decodeBroker(value: unknown, at: string): BrokerState {
  const r = record(value, at);
  return {
    id: string(r.id, `${at}.id`),
    host: string(r.host, `${at}.host`),
    port: index(r.port, `${at}.port`),
    reachable: boolean(r.reachable, `${at}.reachable`),
  };
}

function decodeStream(value: unknown, at: string): StreamState {
  const r = record(value, at);
  const name = string(r.name, `${at}.name`);
  const partitions = array(r.partitions, `${at}.partitions`).map((p, i) => decodePartition(p, `${at}.partitions[${i}]`));
  partitions.forEach((p, i) => {
    if (p.id !== i || p.stream !== name) throw new MetadataSnapshotDecodeError(`${at}.partitions[${i}] is ${p.stream}/${p.id}`);
  });
  return {
    name,
    subject: string(r.subject, `${at}.subject`),
    group: string(r.group, `${at}.group`),
    replicationFactor: index(r.replicationFactor, `${at}.replicationFactor`),
    config: decodeConfig(r.config, `${at}.config`),
    creationTimestampNs: decimal(r.creationTimestampNs, `${at}.creationTimestampNs`),
    partitions,
    resumeAll: boolean(r.resumeAll, `${at}.resumeAll`),
    version: index(r.version, `${at}.version`),
  };
}

function decodePartition(value: unknown, at: string): PartitionState {
  const r = record(value, at);
  return {
    stream: string(r.stream, `${at}.stream`),
    id: index(r.id, `${at}.id`),
    subject: string(r.subject, `${at}.subject`),
    group: string(r.group, `${at}.group`),
    replicationFactor: index(r.replicationFactor, `${at}.replicationFactor`),
    replicas: array(r.replicas, `${at}.replicas`).map((v, i) => string(v, `${at}.replicas[${i}]`)),
    isr: array(r.isr, `${at}.isr`).map((v, i) => string(v, `${at}.isr[${i}]`)),
    leader: string(r.leader, `${at}.leader`),
    leaderEpoch: index(r.leaderEpoch, `${at}.leaderEpoch`),
    epoch: index(r.epoch, `${at}.epoch`),
    paused: boolean(r.paused, `${at}.paused`),
    readonly: boolean(r.readonly, `${at}.readonly`),
    pauseTimestamps: decodeTimestamps(r.pauseTimestamps, `${at}.pauseTimestamps`),
    readonlyTimestamps: decodeTimestamps(r.readonlyTimestamps, `${at}.readonlyTimestamps`),
  };
}

function decodeTimestamps(value: unknown, at: string): EventTimestamps {
  const r = record(value, at);
  return { firstNs: decimal(r.firstNs, `${at}.firstNs`), latestNs: decimal(r.latestNs, `${at}.latestNs`) };
}

const CONFIG_NUMBERS = [
  'retentionMaxBytes',
  'retentionMaxMessages',
  'retentionMaxAgeMs',
  'cleanerIntervalMs',
  'segmentMaxBytes',
  'segmentMaxAgeMs',
  'compactMaxGoroutines',
  'autoPauseTimeMs',
  'minIsr',
] as const satisfies readonly (keyof StreamConfig)[];
const CONFIG_BOOLEANS = ['compactEnabled', 'autoPauseDisableIfSubscribers', 'optimisticConcurrencyControl', 'encryption'] as const satisfies readonly (keyof StreamConfig)[];

function decodeConfig(value: unknown, at: string): StreamConfig {
  const r = record(value, at);
  const numbers = new Set<string>(CONFIG_NUMBERS);
  const booleans = new Set<string>(CONFIG_BOOLEANS);
  const config: Record<string, number | boolean> = {};
  // In the encoded order, so that re-encoding a decoded state gives the same bytes.
  for (const [key, v] of Object.entries(r)) {
    if (numbers.has(key)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new MetadataSnapshotDecodeError(`${at}.${key} is not a number`);
      config[key] = v;
    } else if (booleans.has(key)) config[key] = boolean(v, `${at}.${key}`);
    else throw new MetadataSnapshotDecodeError(`${at} has an unknown field ${key}`);
  }
  return config as StreamConfig;
}

function record(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MetadataSnapshotDecodeError(`${at} is not an object`);
  return value as Record<string, unknown>;
}

function array(value: unknown, at: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new MetadataSnapshotDecodeError(`${at} is not an array`);
  return value;
}

function string(value: unknown, at: string): string {
  if (typeof value !== 'string') throw new MetadataSnapshotDecodeError(`${at} is not a string`);
  return value;
}

function decimal(value: unknown, at: string): string {
  if (typeof value !== 'string' || !/^(0|-?[1-9][0-9]*)$/.test(value)) throw new MetadataSnapshotDecodeError(`${at} is not a decimal string`);
  return value;
}

function boolean(value: unknown, at: string): boolean {
  if (typeof value !== 'boolean') throw new MetadataSnapshotDecodeError(`${at} is not a boolean`);
  return value;
}

function index(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new MetadataSnapshotDecodeError(`${at} is not a non-negative safe integer`);
  return value;
}
