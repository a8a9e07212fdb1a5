/**
 * What this server does with each configuration key: one table, so that a setting the server
 * cannot honour is refused at start-up instead of being accepted and ignored (fail closed).
 * Defaults and "off" values of unimplemented features stay accepted, so Liftbridge's own
 * configuration files still load. docs/configuration.md ("Settings this server refuses") lists the
 * same table; test/unit/infrastructure/config/setting-support.spec.ts checks that every key is in
 * it and that each refusal names its key.
 */
import type { BrokerConfig } from './broker-config';
import type { ConfigIssue } from './config-settings';
import { formatDurationMs } from './go-duration';

export type KeySupport =
  /** The value is used. */
  | { readonly kind: 'applied' }
  /** Any value is accepted because nothing here would behave differently (`why` says so). */
  | { readonly kind: 'accepted'; readonly why: string }
  /**
   * Refused when `refusedValue` returns the configured value (as shown to the user): the setting
   * would need `feature`, which this server does not have yet. `accepted` lists what still loads.
   */
  | {
      readonly kind: 'refused';
      readonly refusedValue: (c: BrokerConfig) => string | null;
      readonly feature: string;
      readonly accepted: string;
      readonly note?: string;
    };

const applied: KeySupport = { kind: 'applied' };
const accepted = (why: string): KeySupport => ({ kind: 'accepted', why });
const refused = (
  feature: string,
  acceptedValues: string,
  refusedValue: (c: BrokerConfig) => string | null,
  note?: string,
): KeySupport => ({ kind: 'refused', refusedValue, feature, accepted: acceptedValues, ...(note === undefined ? {} : { note }) });

const whenTrue = (v: boolean): string | null => (v ? 'true' : null);
const whenNonZeroMs = (ms: number): string | null => (ms > 0 ? formatDurationMs(ms) : null);
const whenNonZero = (n: number): string | null => (n > 0 ? String(n) : null);

export const SETTING_SUPPORT: Readonly<Record<string, KeySupport>> = {
  listen: applied,
  host: applied,
  port: applied,
  'data.dir': applied,
  'metadata.cache.max.age': accepted('FetchMetadata answers from the replicated metadata, never from a cache, which meets any maximum age'),
  'logging.level': applied,
  'logging.recovery': applied,
  'logging.raft': applied,
  'logging.nats': applied,
  'logging.format': applied,
  'batch.max.messages': applied,
  'batch.max.time': refused('waiting to fill a batch', '0', (c) => whenNonZeroMs(c.batch.maxTimeMs), 'a batch is what arrived in one event-loop turn'),
  // The client API's TLS, client certificates and authorization (docs/security.md); combinations
  // that cannot be applied are refused by tls-checks.ts, unusable files when the server starts.
  'tls.key': applied,
  'tls.cert': applied,
  'tls.client.auth.enabled': applied,
  'tls.client.auth.ca': applied,
  'tls.client.authz.enabled': applied,
  'tls.client.authz.model': applied,
  'tls.client.authz.policy': applied,
  'nats.servers': applied,
  'nats.user': applied,
  'nats.password': applied,
  'nats.tls.cert': applied,
  'nats.tls.key': applied,
  'nats.tls.ca': applied,
  'nats.credentials': applied,
  'nats.embedded': applied,
  'nats.embedded.config': applied,
  'nats.embedded.port': applied,
  'nats.embedded.binary': applied,
  'nats.connect.timeout': applied,
  'nats.ping.interval': applied,
  'nats.ping.max.outstanding': applied,
  'streams.retention.max.bytes': applied,
  'streams.retention.max.messages': applied,
  'streams.retention.max.age': applied,
  'streams.cleaner.interval': applied,
  'streams.segment.max.bytes': applied,
  'streams.segment.max.age': applied,
  'streams.compact.enabled': refused('log compaction', 'false', (c) => whenTrue(c.streams.compactEnabled)),
  'streams.compact.max.goroutines': accepted('it only sizes compaction, which cannot be enabled'),
  'streams.auto.pause.time': applied,
  'streams.auto.pause.disable.if.subscribers': applied,
  'streams.concurrency.control': applied,
  'streams.encryption': applied,
  'streams.sync.policy': applied,
  'streams.sync.interval': applied,
  'streams.open.files.max': applied,
  'clustering.server.id': applied,
  'clustering.namespace': applied,
  'clustering.raft.snapshot.retain': refused('keeping more than one Raft snapshot', '1, or the default 2', (c) =>
    c.clustering.raftSnapshotRetain > 2 ? String(c.clustering.raftSnapshotRetain) : null,
  ),
  'clustering.raft.snapshot.threshold': applied,
  'clustering.raft.cache.size': accepted('every Raft entry after the last snapshot is held in memory, so there is no cache to size'),
  'clustering.raft.bootstrap.seed': applied,
  'clustering.raft.bootstrap.peers': applied,
  'clustering.raft.seed': applied,
  'clustering.raft.max.quorum.size': refused('non-voting Raft members', '0', (c) => whenNonZero(c.clustering.raftMaxQuorumSize)),
  'clustering.replica.max.lag.time': applied,
  'clustering.replica.max.leader.timeout': applied,
  'clustering.replica.max.idle.wait': applied,
  'clustering.replica.fetch.timeout': applied,
  'clustering.broker.heartbeat.interval': applied,
  'clustering.broker.timeout': applied,
  'clustering.min.insync.replicas': applied,
  'clustering.replication.max.bytes': applied,
  'clustering.auth.secret': applied,
  'clustering.auth.secret.file': applied,
  'activity.stream.enabled': applied,
  'activity.stream.publish.timeout': applied,
  'activity.stream.publish.ack.policy': applied,
  'cursors.stream.partitions': applied,
  'cursors.stream.replication.factor': applied,
  'cursors.stream.auto.pause.time': applied,
  'groups.consumer.timeout': applied,
  'groups.coordinator.timeout': applied,
  'http.port': applied,
  'http.host': applied,
  'metrics.enabled': applied,
  'telemetry.enabled': accepted('telemetry is always off; nothing is ever sent (Go\'s default is true, so true still loads)'),
  'telemetry.interval.seconds': accepted('telemetry is always off'),
};

/**
 * One issue per setting this server cannot honour, each naming the key, the value and what it
 * would need. Run after the configuration is resolved (and by `Broker.start`, for embedders).
 */
export function unimplementedSettingIssues(config: BrokerConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [key, support] of Object.entries(SETTING_SUPPORT)) {
    if (support.kind !== 'refused') continue;
    const value = support.refusedValue(config);
    if (value === null) continue;
    const note = support.note === undefined ? '' : ` (${support.note})`;
    issues.push({ key, message: `"${key}" is ${value}, but ${support.feature} is not implemented yet${note}; accepted: ${support.accepted}` });
  }
  return issues;
}
