/**
 * Turns checked settings into a BrokerConfig: defaults for what is unset, the address and
 * embedded-NATS resolution, the post-processing (docs/configuration.md "Post-processing"), and the checks that involve
 * more than one key.
 */
import { assert } from '../../domain/shared/assert';
import { err, ok, type Result } from '../../domain/shared/result';
import {
  defaultBrokerConfig,
  defaultDataDir,
  embeddedNatsUrl,
  DEFAULT_ADVERTISE_HOST,
  DEFAULT_COMPACT_MAX_GOROUTINES,
  DEFAULT_LISTEN_HOST,
  DEFAULT_NATS_SERVER,
  DEFAULT_RAFT_SNAPSHOT_THRESHOLD,
  SEGMENT_MAX_AGE_FLOOR_MS,
  type ActivityAckPolicy,
  type BrokerConfig,
  type HostPort,
  type LogFormat,
  type LogLevel,
  type SyncPolicy,
} from './broker-config';
import { MasterKey, masterKeyProblem } from '../../adapters/outbound/crypto/master-key';
import { clusterSecretProblem } from './cluster-secret';
import { ENCRYPTION_KEY_ENV, NATS_SERVER_BIN_ENV } from './config-keys';
import type { ConfigIssue, SettingSource } from './config-settings';
import { IGNORED_LISTEN, type CoercedValue } from './config-values';
import { formatDurationMs } from './go-duration';
import { checkTls, type AddIssue } from './tls-checks';

export interface CheckedSetting {
  readonly value: CoercedValue;
  readonly source: SettingSource;
}

/** Typed read access to checked settings; `undefined` = not set anywhere. */
class Settings {
  constructor(private readonly values: ReadonlyMap<string, CheckedSetting>) {}

  has(k: string): boolean {
    return this.values.has(k);
  }

  source(k: string): SettingSource | undefined {
    return this.values.get(k)?.source;
  }

  num(k: string): number | undefined {
    const v = this.values.get(k)?.value;
    assert(v === undefined || typeof v === 'number', `setting ${k} is not a number`);
    return v;
  }

  bool(k: string): boolean | undefined {
    const v = this.values.get(k)?.value;
    assert(v === undefined || typeof v === 'boolean', `setting ${k} is not a boolean`);
    return v;
  }

  /** An empty string counts as unset. */
  str(k: string): string | undefined {
    const v = this.values.get(k)?.value;
    assert(v === undefined || typeof v === 'string', `setting ${k} is not a string`);
    return v === '' ? undefined : v;
  }

  list(k: string): readonly string[] | undefined {
    const v = this.values.get(k)?.value;
    assert(v === undefined || Array.isArray(v), `setting ${k} is not a list`);
    return v as readonly string[] | undefined;
  }

  /** `listen`: a host:port, or undefined when unset or given as a bare (ignored) port. */
  hostPort(k: string): HostPort | undefined {
    const v = this.values.get(k)?.value;
    if (v === undefined || v === IGNORED_LISTEN) return undefined;
    assert(typeof v === 'object' && !Array.isArray(v), `setting ${k} is not host:port`);
    return v as HostPort;
  }
}

export function buildBrokerConfig(
  values: ReadonlyMap<string, CheckedSetting>,
  env: Readonly<Record<string, string | undefined>>,
): Result<BrokerConfig, readonly ConfigIssue[]> {
  const s = new Settings(values);
  const d = defaultBrokerConfig();
  const namespace = s.str('clustering.namespace') ?? d.clustering.namespace;
  const config: BrokerConfig = {
    ...resolveAddresses(s),
    dataDir: s.str('data.dir') ?? defaultDataDir(namespace),
    metadataCacheMaxAgeMs: s.num('metadata.cache.max.age') ?? d.metadataCacheMaxAgeMs,
    logging: {
      level: (s.str('logging.level') as LogLevel | undefined) ?? d.logging.level,
      recovery: s.bool('logging.recovery') ?? d.logging.recovery,
      raft: s.bool('logging.raft') ?? d.logging.raft,
      nats: s.bool('logging.nats') ?? d.logging.nats,
      format: (s.str('logging.format') as LogFormat | undefined) ?? d.logging.format,
    },
    batch: {
      maxMessages: s.num('batch.max.messages') ?? d.batch.maxMessages,
      maxTimeMs: s.num('batch.max.time') ?? d.batch.maxTimeMs,
    },
    tls: {
      ...optional('key', s.str('tls.key')),
      ...optional('cert', s.str('tls.cert')),
      clientAuthEnabled: s.bool('tls.client.auth.enabled') ?? false,
      ...optional('clientAuthCa', s.str('tls.client.auth.ca')),
      // docs/compatibility.md "Go quirks" #1: read the authz key itself, not tls.client.auth.enabled.
      clientAuthzEnabled: s.bool('tls.client.authz.enabled') ?? false,
      ...optional('clientAuthzModel', s.str('tls.client.authz.model')),
      ...optional('clientAuthzPolicy', s.str('tls.client.authz.policy')),
    },
    nats: resolveNats(s, env),
    streams: resolveStreams(s, d, env),
    clustering: resolveClustering(s, d, namespace),
    activity: {
      streamEnabled: s.bool('activity.stream.enabled') ?? d.activity.streamEnabled,
      publishTimeoutMs: s.num('activity.stream.publish.timeout') ?? d.activity.publishTimeoutMs,
      publishAckPolicy: (s.str('activity.stream.publish.ack.policy') as ActivityAckPolicy | undefined) ?? d.activity.publishAckPolicy,
    },
    cursors: {
      streamPartitions: s.num('cursors.stream.partitions') ?? d.cursors.streamPartitions,
      streamReplicationFactor: s.num('cursors.stream.replication.factor') ?? d.cursors.streamReplicationFactor,
      streamAutoPauseTimeMs: s.num('cursors.stream.auto.pause.time') ?? d.cursors.streamAutoPauseTimeMs,
    },
    groups: {
      consumerTimeoutMs: s.num('groups.consumer.timeout') ?? d.groups.consumerTimeoutMs,
      coordinatorTimeoutMs: s.num('groups.coordinator.timeout') ?? d.groups.coordinatorTimeoutMs,
    },
    http: { host: s.str('http.host') ?? d.http.host, port: s.num('http.port') ?? d.http.port },
    metrics: { enabled: s.bool('metrics.enabled') ?? d.metrics.enabled },
  };
  const issues = crossCheck(config, s);
  return issues.length > 0 ? err(issues) : ok(config);
}

function resolveStreams(s: Settings, d: BrokerConfig, env: Readonly<Record<string, string | undefined>>): BrokerConfig['streams'] {
  const retentionMaxAgeMs = s.num('streams.retention.max.age') ?? d.streams.retentionMaxAgeMs;
  return {
    retentionMaxBytes: s.num('streams.retention.max.bytes') ?? d.streams.retentionMaxBytes,
    retentionMaxMessages: s.num('streams.retention.max.messages') ?? d.streams.retentionMaxMessages,
    retentionMaxAgeMs,
    cleanerIntervalMs: s.num('streams.cleaner.interval') ?? d.streams.cleanerIntervalMs,
    segmentMaxBytes: s.num('streams.segment.max.bytes') ?? d.streams.segmentMaxBytes,
    segmentMaxAgeMs: segmentMaxAge(s.num('streams.segment.max.age') ?? 0, retentionMaxAgeMs),
    compactEnabled: s.bool('streams.compact.enabled') ?? d.streams.compactEnabled,
    compactMaxGoroutines: s.num('streams.compact.max.goroutines') || DEFAULT_COMPACT_MAX_GOROUTINES,
    autoPauseTimeMs: s.num('streams.auto.pause.time') ?? d.streams.autoPauseTimeMs,
    autoPauseDisableIfSubscribers: s.bool('streams.auto.pause.disable.if.subscribers') ?? d.streams.autoPauseDisableIfSubscribers,
    concurrencyControl: s.bool('streams.concurrency.control') ?? d.streams.concurrencyControl,
    encryption: s.bool('streams.encryption') ?? d.streams.encryption,
    encryptionKey: MasterKey.fromEnv(env),
    syncPolicy: (s.str('streams.sync.policy') as SyncPolicy | undefined) ?? d.streams.syncPolicy,
    syncIntervalMs: s.num('streams.sync.interval') ?? d.streams.syncIntervalMs,
    openFilesMax: s.num('streams.open.files.max') ?? d.streams.openFilesMax,
  };
}

function resolveClustering(s: Settings, d: BrokerConfig, namespace: string): BrokerConfig['clustering'] {
  return {
    serverId: s.str('clustering.server.id') ?? null,
    namespace,
    raftSnapshotRetain: s.num('clustering.raft.snapshot.retain') ?? d.clustering.raftSnapshotRetain,
    raftSnapshotThreshold: s.num('clustering.raft.snapshot.threshold') || DEFAULT_RAFT_SNAPSHOT_THRESHOLD,
    raftCacheSize: s.num('clustering.raft.cache.size') ?? d.clustering.raftCacheSize,
    raftBootstrapSeed: s.bool('clustering.raft.bootstrap.seed') ?? false,
    raftBootstrapPeers: s.list('clustering.raft.bootstrap.peers') ?? [],
    raftMaxQuorumSize: s.num('clustering.raft.max.quorum.size') ?? d.clustering.raftMaxQuorumSize,
    raftSeed: s.num('clustering.raft.seed') ?? d.clustering.raftSeed,
    replicaMaxLagTimeMs: s.num('clustering.replica.max.lag.time') ?? d.clustering.replicaMaxLagTimeMs,
    brokerHeartbeatIntervalMs: s.num('clustering.broker.heartbeat.interval') ?? d.clustering.brokerHeartbeatIntervalMs,
    brokerTimeoutMs: s.num('clustering.broker.timeout') ?? d.clustering.brokerTimeoutMs,
    replicaMaxLeaderTimeoutMs: s.num('clustering.replica.max.leader.timeout') ?? d.clustering.replicaMaxLeaderTimeoutMs,
    replicaMaxIdleWaitMs: s.num('clustering.replica.max.idle.wait') ?? d.clustering.replicaMaxIdleWaitMs,
    replicaFetchTimeoutMs: s.num('clustering.replica.fetch.timeout') ?? d.clustering.replicaFetchTimeoutMs,
    minInsyncReplicas: s.num('clustering.min.insync.replicas') ?? d.clustering.minInsyncReplicas,
    replicationMaxBytes: s.num('clustering.replication.max.bytes') ?? d.clustering.replicationMaxBytes,
    ...optional('authSecret', s.str('clustering.auth.secret')),
    ...optional('authSecretFile', s.str('clustering.auth.secret.file')),
  };
}

const optional = <K extends string>(k: K, v: string | undefined): { [P in K]?: string } =>
  (v === undefined ? {} : { [k]: v }) as { [P in K]?: string };

/**
 * docs/configuration.md "Addresses": bind = `listen` if it has a host, else `host:port` if host is set, else
 * `0.0.0.0:port`; advertise = `host:port` if host is set, else `listen` if it has a host, else
 * `localhost:port`.
 */
function resolveAddresses(s: Settings): Pick<BrokerConfig, 'listen' | 'advertise'> {
  const port = s.num('port') ?? defaultBrokerConfig().advertise.port;
  const listenSetting = s.hostPort('listen');
  const listen = listenSetting && listenSetting.host !== '' ? listenSetting : undefined;
  const host = s.str('host');
  return {
    listen: listen ?? { host: host ?? DEFAULT_LISTEN_HOST, port },
    advertise: host !== undefined ? { host, port } : (listen ?? { host: DEFAULT_ADVERTISE_HOST, port }),
  };
}

/**
 * Embedded NATS runs when `nats.embedded` is true (the boolean is honoured, docs/compatibility.md "Go quirks" #2), when
 * `nats.embedded.config` is set, or when no NATS server is configured at all and
 * `nats.embedded` is not explicitly false.
 */
function resolveNats(s: Settings, env: Readonly<Record<string, string | undefined>>): BrokerConfig['nats'] {
  const configured = s.list('nats.servers') ?? [];
  const embeddedConfig = s.str('nats.embedded.config');
  const embedded = s.bool('nats.embedded') ?? (embeddedConfig !== undefined || configured.length === 0);
  const embeddedPort = s.num('nats.embedded.port') ?? defaultBrokerConfig().nats.embeddedPort;
  const fallback = embedded ? embeddedNatsUrl(embeddedPort) : DEFAULT_NATS_SERVER;
  const binary = s.str('nats.embedded.binary') ?? (env[NATS_SERVER_BIN_ENV] || undefined);
  return {
    servers: configured.length > 0 ? configured : [fallback],
    ...optional('user', s.str('nats.user')),
    ...optional('password', s.str('nats.password')),
    ...optional('tlsCert', s.str('nats.tls.cert')),
    ...optional('tlsKey', s.str('nats.tls.key')),
    ...optional('tlsCa', s.str('nats.tls.ca')),
    ...optional('credentials', s.str('nats.credentials')),
    embedded,
    ...optional('embeddedConfig', embeddedConfig),
    embeddedPort,
    ...optional('embeddedBinary', binary),
    connectTimeoutMs: s.num('nats.connect.timeout') ?? defaultBrokerConfig().nats.connectTimeoutMs,
    pingIntervalMs: s.num('nats.ping.interval') ?? defaultBrokerConfig().nats.pingIntervalMs,
    pingMaxOutstanding: s.num('nats.ping.max.outstanding') ?? defaultBrokerConfig().nats.pingMaxOutstanding,
  };
}

/** docs/configuration.md "Post-processing": 0/unset → the retention age; a non-zero value below 1 s → 1 s. */
function segmentMaxAge(configuredMs: number, retentionMaxAgeMs: number): number {
  const ms = configuredMs === 0 ? retentionMaxAgeMs : configuredMs;
  return ms > 0 && ms < SEGMENT_MAX_AGE_FLOOR_MS ? SEGMENT_MAX_AGE_FLOOR_MS : ms;
}

/** The acknowledgement lease of partition leaders (docs/cluster.md): failure detection must be slower. */
export const BROKER_TIMEOUT_MIN_MS = 1000;

function crossCheck(c: BrokerConfig, s: Settings): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add: AddIssue = (message, ...keys) => {
    const k = keys.find((x) => s.has(x)) ?? keys[0];
    const source = k === undefined ? undefined : s.source(k);
    issues.push({ message, ...(k === undefined ? {} : { key: k }), ...(source ? { source: source.description } : {}) });
  };
  const cl = c.clustering;
  if (cl.replicaMaxIdleWaitMs >= cl.replicaMaxLagTimeMs) {
    add(
      `"clustering.replica.max.idle.wait" (${formatDurationMs(cl.replicaMaxIdleWaitMs)}) must be less than ` +
        `"clustering.replica.max.lag.time" (${formatDurationMs(cl.replicaMaxLagTimeMs)}), or idle followers leave the ISR`,
      'clustering.replica.max.idle.wait',
      'clustering.replica.max.lag.time',
    );
  }
  if (cl.brokerTimeoutMs <= BROKER_TIMEOUT_MIN_MS || cl.brokerHeartbeatIntervalMs >= cl.brokerTimeoutMs) {
    add(
      `"clustering.broker.timeout" (${formatDurationMs(cl.brokerTimeoutMs)}) must exceed ${formatDurationMs(BROKER_TIMEOUT_MIN_MS)} (the partition leaders' ` +
        `acknowledgement lease) and "clustering.broker.heartbeat.interval" (${formatDurationMs(cl.brokerHeartbeatIntervalMs)})`,
      'clustering.broker.timeout',
      'clustering.broker.heartbeat.interval',
    );
  }
  if (cl.raftBootstrapSeed && cl.raftBootstrapPeers.length > 0) {
    add(
      '"clustering.raft.bootstrap.seed" and "clustering.raft.bootstrap.peers" cannot both be set: choose one way to bootstrap',
      'clustering.raft.bootstrap.peers',
    );
  }
  if (cl.authSecret !== undefined && cl.authSecretFile !== undefined) {
    add('"clustering.auth.secret" and "clustering.auth.secret.file" cannot both be set: give the secret one way', 'clustering.auth.secret.file');
  }
  if (cl.authSecret !== undefined) {
    const problem = clusterSecretProblem('clustering.auth.secret', Buffer.byteLength(cl.authSecret, 'utf8'));
    if (problem !== null) add(problem, 'clustering.auth.secret');
  }
  checkTls(c.tls, add);
  const nats = c.nats;
  if ((nats.tlsCert === undefined) !== (nats.tlsKey === undefined)) {
    const [set, missing] = nats.tlsCert !== undefined ? ['nats.tls.cert', 'nats.tls.key'] : ['nats.tls.key', 'nats.tls.cert'];
    add(`"${set}" is set but "${missing}" is not: NATS client TLS needs both`, set);
  }
  if (nats.password !== undefined && nats.user === undefined) add('"nats.password" is set but "nats.user" is not', 'nats.password');
  if (nats.credentials !== undefined && (nats.user !== undefined || nats.password !== undefined)) {
    add('"nats.credentials" and "nats.user"/"nats.password" cannot both be set: NATS takes one identity per connection', 'nats.credentials');
  }
  if (s.bool('nats.embedded') === false && nats.embeddedConfig !== undefined) {
    add('"nats.embedded" is false but "nats.embedded.config" is set', 'nats.embedded');
  }
  if (c.streams.encryption && masterKeyProblem(c.streams.encryptionKey) !== null) {
    const bytes = c.streams.encryptionKey?.byteLength ?? 0;
    add(
      `"streams.encryption" is true but ${ENCRYPTION_KEY_ENV} is ${bytes === 0 ? 'not set' : `${bytes} bytes long`} (it must be 16 or 32 bytes)`,
      'streams.encryption',
    );
  }
  return issues;
}

