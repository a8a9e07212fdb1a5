/**
 * The broker's resolved configuration: plain readonly data, produced once at start-up by
 * `loadBrokerConfig` / `resolveBrokerConfig` (load-config.ts) and passed explicitly to whoever
 * needs a value (docs/style.md "Composition root"). All durations are milliseconds, all sizes bytes.
 *
 * Keys, defaults and precedence: docs/configuration.md.
 */

import type { MasterKey } from '../../adapters/outbound/crypto/master-key';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';
export type SyncPolicy = 'always' | 'interval' | 'never';
export type ActivityAckPolicy = 'none' | 'leader' | 'all';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface BrokerConfig {
  /** Bind address (docs/configuration.md "Addresses"). */
  readonly listen: HostPort;
  /** Address reported to clients in metadata. Port 0 means "advertise the port the OS assigned". */
  readonly advertise: HostPort;
  /** Default `/tmp/liftbridge/<namespace>`. */
  readonly dataDir: string;
  readonly metadataCacheMaxAgeMs: number;
  readonly logging: {
    readonly level: LogLevel;
    readonly recovery: boolean;
    readonly raft: boolean;
    readonly nats: boolean;
    readonly format: LogFormat;
  };
  readonly batch: { readonly maxMessages: number; readonly maxTimeMs: number };
  readonly tls: {
    readonly key?: string;
    readonly cert?: string;
    readonly clientAuthEnabled: boolean;
    readonly clientAuthCa?: string;
    readonly clientAuthzEnabled: boolean;
    readonly clientAuthzModel?: string;
    readonly clientAuthzPolicy?: string;
  };
  readonly nats: {
    /** Never empty: when embedded and nothing was configured, the embedded server's URL. */
    readonly servers: readonly string[];
    readonly user?: string;
    readonly password?: string;
    readonly tlsCert?: string;
    readonly tlsKey?: string;
    readonly tlsCa?: string;
    /** Our addition: a NATS `.creds` file (user JWT and nkey seed), instead of user and password. */
    readonly credentials?: string;
    /** Start our own nats-server child process before connecting. */
    readonly embedded: boolean;
    readonly embeddedConfig?: string;
    readonly embeddedPort: number;
    /** Path of the nats-server binary; undefined = search PATH for `nats-server`. */
    readonly embeddedBinary?: string;
    /** Our addition: how long start-up retries the NATS connections; 0 = until NATS is reached. */
    readonly connectTimeoutMs: number;
    /** Our addition: client pings, so that a dead (half-open) link is noticed in interval × max outstanding. */
    readonly pingIntervalMs: number;
    readonly pingMaxOutstanding: number;
  };
  readonly streams: {
    readonly retentionMaxBytes: number;
    readonly retentionMaxMessages: number;
    readonly retentionMaxAgeMs: number;
    readonly cleanerIntervalMs: number;
    readonly segmentMaxBytes: number;
    /** Already post-processed: 0/unset → retention age; non-zero below 1 s → 1 s. */
    readonly segmentMaxAgeMs: number;
    readonly compactEnabled: boolean;
    /** Already resolved: 0 → 10. */
    readonly compactMaxGoroutines: number;
    readonly autoPauseTimeMs: number;
    readonly autoPauseDisableIfSubscribers: boolean;
    readonly concurrencyControl: boolean;
    readonly encryption: boolean;
    /**
     * The master key for encryption at rest: LIFTBRIDGE_ENCRYPTION_KEY, which only the environment
     * gives (not a configuration key); null when unset. Printing it shows a placeholder.
     */
    readonly encryptionKey: MasterKey | null;
    readonly syncPolicy: SyncPolicy;
    readonly syncIntervalMs: number;
    /** Our addition: the partition logs' descriptor budget; 0 = derived from the process limit (docs/storage.md "Open files"). */
    readonly openFilesMax: number;
  };
  readonly clustering: {
    /** null = generate one, or reuse the id stored in the data directory. */
    readonly serverId: string | null;
    readonly namespace: string;
    readonly raftSnapshotRetain: number;
    /** Already resolved: 0 → 8192 (hashicorp/raft's default). */
    readonly raftSnapshotThreshold: number;
    readonly raftCacheSize: number;
    readonly raftBootstrapSeed: boolean;
    readonly raftBootstrapPeers: readonly string[];
    /** 0 = no limit. */
    readonly raftMaxQuorumSize: number;
    /** Seed of the Raft timers' PRNG; null = drawn at start (logged either way). */
    readonly raftSeed: number | null;
    readonly replicaMaxLagTimeMs: number;
    /** Our additions: failure detection by heartbeats (docs/cluster.md). */
    readonly brokerHeartbeatIntervalMs: number;
    readonly brokerTimeoutMs: number;
    readonly replicaMaxLeaderTimeoutMs: number;
    readonly replicaMaxIdleWaitMs: number;
    readonly replicaFetchTimeoutMs: number;
    readonly minInsyncReplicas: number;
    readonly replicationMaxBytes: number;
    /**
     * Our addition: the secret that signs internal NATS messages, given inline or as a file (at
     * most one of the two; docs/cluster.md "Authentication"). Neither = unauthenticated.
     */
    readonly authSecret?: string;
    readonly authSecretFile?: string;
  };
  readonly activity: {
    readonly streamEnabled: boolean;
    readonly publishTimeoutMs: number;
    readonly publishAckPolicy: ActivityAckPolicy;
  };
  readonly cursors: {
    readonly streamPartitions: number;
    /** -1 = all servers. */
    readonly streamReplicationFactor: number;
    readonly streamAutoPauseTimeMs: number;
  };
  readonly groups: { readonly consumerTimeoutMs: number; readonly coordinatorTimeoutMs: number };
  /** Our addition: the operability HTTP server (metrics, health) and metrics collection. */
  readonly http: { readonly host: string; readonly port: number };
  readonly metrics: { readonly enabled: boolean };
}

export const DEFAULT_NAMESPACE = 'liftbridge-default';
export const DEFAULT_PORT = 9292;
export const DEFAULT_LISTEN_HOST = '0.0.0.0';
export const DEFAULT_ADVERTISE_HOST = 'localhost';
export const DEFAULT_NATS_SERVER = 'nats://127.0.0.1:4222';
export const DEFAULT_EMBEDDED_NATS_PORT = 4222;
/** hashicorp/raft's SnapshotThreshold default, used when the setting is 0 (docs/configuration.md "Post-processing"). */
export const DEFAULT_RAFT_SNAPSHOT_THRESHOLD = 8192;
/** Used when streams.compact.max.goroutines is 0 (docs/configuration.md "Post-processing"). */
export const DEFAULT_COMPACT_MAX_GOROUTINES = 10;
/** Floor applied to a non-zero streams.segment.max.age (docs/configuration.md "Post-processing"). */
export const SEGMENT_MAX_AGE_FLOOR_MS = 1000;

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

export const defaultDataDir = (namespace: string): string => `/tmp/liftbridge/${namespace}`;

export const embeddedNatsUrl = (port: number): string => `nats://127.0.0.1:${port}`;

/**
 * Every default of Liftbridge's keys (docs/configuration.md "Keys") plus our additions, after the same post-processing a loaded
 * configuration gets. NATS: with nothing configured the broker runs its own nats-server
 * (see docs/configuration.md, "Embedded NATS").
 */
export function defaultBrokerConfig(): BrokerConfig {
  const retentionMaxAgeMs = 168 * HOUR_MS;
  return {
    listen: { host: DEFAULT_LISTEN_HOST, port: DEFAULT_PORT },
    advertise: { host: DEFAULT_ADVERTISE_HOST, port: DEFAULT_PORT },
    dataDir: defaultDataDir(DEFAULT_NAMESPACE),
    metadataCacheMaxAgeMs: 2 * MINUTE_MS,
    logging: { level: 'info', recovery: false, raft: false, nats: false, format: 'json' },
    batch: { maxMessages: 1024, maxTimeMs: 0 },
    tls: { clientAuthEnabled: false, clientAuthzEnabled: false },
    nats: {
      servers: [embeddedNatsUrl(DEFAULT_EMBEDDED_NATS_PORT)],
      embedded: true,
      embeddedPort: DEFAULT_EMBEDDED_NATS_PORT,
      connectTimeoutMs: 0,
      pingIntervalMs: 2 * SECOND_MS,
      pingMaxOutstanding: 3,
    },
    streams: {
      retentionMaxBytes: 0,
      retentionMaxMessages: 0,
      retentionMaxAgeMs,
      cleanerIntervalMs: 5 * MINUTE_MS,
      segmentMaxBytes: 268_435_456,
      segmentMaxAgeMs: retentionMaxAgeMs,
      compactEnabled: false,
      compactMaxGoroutines: DEFAULT_COMPACT_MAX_GOROUTINES,
      autoPauseTimeMs: 0,
      autoPauseDisableIfSubscribers: false,
      concurrencyControl: false,
      encryption: false,
      encryptionKey: null,
      syncPolicy: 'always',
      syncIntervalMs: SECOND_MS,
      openFilesMax: 0,
    },
    clustering: {
      serverId: null,
      namespace: DEFAULT_NAMESPACE,
      raftSnapshotRetain: 2,
      raftSnapshotThreshold: DEFAULT_RAFT_SNAPSHOT_THRESHOLD,
      raftCacheSize: 512,
      raftBootstrapSeed: false,
      raftBootstrapPeers: [],
      raftMaxQuorumSize: 0,
      raftSeed: null,
      replicaMaxLagTimeMs: 15 * SECOND_MS,
      brokerHeartbeatIntervalMs: 500,
      brokerTimeoutMs: 3 * SECOND_MS,
      replicaMaxLeaderTimeoutMs: 15 * SECOND_MS,
      replicaMaxIdleWaitMs: 10 * SECOND_MS,
      replicaFetchTimeoutMs: 3 * SECOND_MS,
      minInsyncReplicas: 1,
      replicationMaxBytes: 1_048_576,
    },
    activity: { streamEnabled: false, publishTimeoutMs: 5 * SECOND_MS, publishAckPolicy: 'all' },
    cursors: { streamPartitions: 0, streamReplicationFactor: -1, streamAutoPauseTimeMs: MINUTE_MS },
    groups: { consumerTimeoutMs: 15 * SECOND_MS, coordinatorTimeoutMs: 15 * SECOND_MS },
    http: { host: '0.0.0.0', port: 0 },
    metrics: { enabled: true },
  };
}
