/**
 * The one table of configuration keys: Liftbridge's 62 file keys plus our additions (docs/configuration.md "Keys"). It drives
 * unknown-key detection, value checking, the LIFTBRIDGE_* environment names and the docs test
 * (every key must appear in docs/configuration.md).
 */
import { MASTER_KEY_ENV } from '../../adapters/outbound/crypto/master-key';

export type KeyType =
  | { readonly type: 'int'; readonly min: number; readonly max: number }
  /** `positive`: zero would mean a busy loop or an immediate timeout, so it is rejected. */
  | { readonly type: 'duration'; readonly positive: boolean }
  | { readonly type: 'bool' }
  /** `secret`: the value never appears in a message. */
  | { readonly type: 'string'; readonly format?: 'identifier' | 'host'; readonly secret?: boolean }
  | { readonly type: 'list'; readonly format: 'identifier' | 'natsUrl' }
  | { readonly type: 'enum'; readonly values: readonly string[]; readonly invalid?: (value: string) => string }
  /** `host:port`; a bare integer is accepted and ignored, as in Liftbridge (docs/configuration.md "Addresses"). */
  | { readonly type: 'hostport' };

export interface ConfigKeySpec {
  readonly key: string;
  readonly type: KeyType;
  /** Default as shown in docs and help. */
  readonly defaultText: string;
  readonly description: string;
  /** `liftbridge`: one of Liftbridge's keys; `addition`: ours; `ignored`: accepted, checked, and not used. */
  readonly origin: 'liftbridge' | 'addition' | 'ignored';
}

const INT32_MAX = 2_147_483_647;
const SAFE_MAX = Number.MAX_SAFE_INTEGER;

const int = (min: number, max: number = SAFE_MAX): KeyType => ({ type: 'int', min, max });
const duration = (positive: boolean): KeyType => ({ type: 'duration', positive });
const bool: KeyType = { type: 'bool' };
const string: KeyType = { type: 'string' };
const path: KeyType = { type: 'string' };

const key = (
  k: string,
  type: KeyType,
  defaultText: string,
  description: string,
  origin: ConfigKeySpec['origin'] = 'liftbridge',
): ConfigKeySpec => ({ key: k, type, defaultText, description, origin });

export const CONFIG_KEYS: readonly ConfigKeySpec[] = [
  key('listen', { type: 'hostport' }, '(unset)', 'bind address host:port; takes precedence over host/port for binding'),
  key('host', { type: 'string', format: 'host' }, '(unset)', 'advertised host; also the bind host when listen is unset'),
  key('port', int(0, 65_535), '9292', 'advertised port, and bind port unless listen has one (0 = OS-assigned)'),
  key('data.dir', path, '/tmp/liftbridge/<namespace>', 'data directory'),
  key('metadata.cache.max.age', duration(false), '2m', 'max age of the cached broker list in FetchMetadata'),
  key(
    'logging.level',
    { type: 'enum', values: ['debug', 'info', 'warn', 'error'], invalid: (v) => `Invalid logging.level setting ${JSON.stringify(v)}` },
    'info',
    'log level: debug, info, warn or error',
  ),
  key('logging.recovery', bool, 'false', 'log (instead of suppressing) messages while replaying the Raft log'),
  key('logging.raft', bool, 'false', 'include the Raft implementation\'s own log lines'),
  key('logging.nats', bool, 'false', 'include the embedded nats-server\'s output'),
  key('logging.format', { type: 'enum', values: ['json', 'pretty'] }, 'json', 'log line format: json or pretty', 'addition'),
  key('batch.max.messages', int(1), '1024', 'max messages per leader append batch'),
  key('batch.max.time', duration(false), '0', 'extra time to wait to fill a batch (0 = dispatch immediately)'),
  key('tls.key', path, '(unset)', 'server TLS private key (PEM); TLS needs key and cert'),
  key('tls.cert', path, '(unset)', 'server TLS certificate (PEM)'),
  key('tls.client.auth.enabled', bool, 'false', 'require and verify client certificates'),
  key('tls.client.auth.ca', path, '(unset)', 'CA bundle for client certificates (system roots when unset)'),
  key('tls.client.authz.enabled', bool, 'false', 'enable ACL authorization of clients by certificate CN'),
  key('tls.client.authz.model', path, '(unset)', 'Casbin model file'),
  key('tls.client.authz.policy', path, '(unset)', 'Casbin policy CSV file'),
  key('nats.servers', { type: 'list', format: 'natsUrl' }, 'embedded server', 'NATS server URLs'),
  key('nats.user', string, '(unset)', 'NATS user name'),
  key('nats.password', string, '(unset)', 'NATS password'),
  key('nats.tls.cert', path, '(unset)', 'client certificate for NATS (needs nats.tls.key)'),
  key('nats.tls.key', path, '(unset)', 'client key for NATS (needs nats.tls.cert)'),
  key('nats.tls.ca', path, '(unset)', 'CA for the NATS server certificate; alone, TLS to NATS without a client certificate'),
  key('nats.credentials', path, '(unset)', 'NATS credentials file (user JWT and nkey seed, as nsc writes it) for every NATS connection', 'addition'),
  key('nats.embedded', bool, 'true when no NATS server is configured', 'run our own nats-server child process'),
  key('nats.embedded.config', path, '(unset)', 'nats-server configuration file for the embedded server; implies embedded'),
  key('nats.embedded.port', int(1, 65_535), '4222', 'client port of the embedded nats-server', 'addition'),
  key('nats.embedded.binary', path, 'PATH search', 'nats-server executable (else $LIFTBRIDGE_NATS_SERVER_BIN, else PATH)', 'addition'),
  key('nats.connect.timeout', duration(false), '0', 'how long start-up keeps retrying to reach NATS before it fails (0 = until reached)', 'addition'),
  key('nats.ping.interval', duration(true), '2s', 'how often each NATS connection pings the server (a dead link is noticed after max.outstanding unanswered pings)', 'addition'),
  key('nats.ping.max.outstanding', int(1, 100), '3', 'unanswered pings after which a NATS connection is taken as dead and reconnected', 'addition'),
  key('streams.retention.max.bytes', int(0), '0', 'delete oldest segments beyond this many bytes per partition (0 = no limit)'),
  key('streams.retention.max.messages', int(0), '0', 'delete oldest segments beyond this many messages (0 = no limit)'),
  key('streams.retention.max.age', duration(false), '168h', 'delete sealed segments older than this (0 = no limit)'),
  key('streams.cleaner.interval', duration(true), '5m', 'period of segment roll checks, retention and compaction'),
  key('streams.segment.max.bytes', int(1, INT32_MAX), '268435456', 'roll the active segment at this size'),
  key('streams.segment.max.age', duration(false), 'streams.retention.max.age', 'roll the active segment at this age (floor 1s)'),
  key('streams.compact.enabled', bool, 'false', 'keep only the latest message per key'),
  key('streams.compact.max.goroutines', int(0, 1024), '10', 'compaction workers (0 = 10)'),
  key('streams.auto.pause.time', duration(false), '0', 'pause a partition idle this long (0 = never)'),
  key('streams.auto.pause.disable.if.subscribers', bool, 'false', 'do not auto-pause while the leader has subscribers'),
  key('streams.concurrency.control', bool, 'false', 'optimistic concurrency control for all streams'),
  key('streams.encryption', bool, 'false', 'encrypt message values at rest (needs LIFTBRIDGE_ENCRYPTION_KEY)'),
  key(
    'streams.sync.policy',
    { type: 'enum', values: ['always', 'interval', 'never'] },
    'always',
    'when partition logs are fsynced: always (before acknowledging), interval, never',
    'addition',
  ),
  key('streams.sync.interval', duration(true), '1s', 'fsync period for streams.sync.policy interval', 'addition'),
  key(
    'streams.open.files.max',
    int(0, INT32_MAX),
    '0',
    'descriptors the partition logs keep open at most; idle files are closed beyond it (0 = half the process limit, at most 4096)',
    'addition',
  ),
  key('clustering.server.id', { type: 'string', format: 'identifier' }, 'generated', 'server id (no dots, spaces or wildcards)'),
  key('clustering.namespace', { type: 'string', format: 'identifier' }, 'liftbridge-default', 'NATS subject namespace of the cluster'),
  key('clustering.raft.snapshot.retain', int(1), '2', 'Raft snapshots kept'),
  key('clustering.raft.snapshot.threshold', int(0), '8192', 'Raft log entries between snapshots (0 = 8192)'),
  key('clustering.raft.cache.size', int(0), '512', 'Raft log entries cached in memory'),
  key('clustering.raft.bootstrap.seed', bool, 'false', 'bootstrap a single-server cluster if there is no Raft state'),
  key('clustering.raft.bootstrap.peers', { type: 'list', format: 'identifier' }, '(none)', 'bootstrap with these server ids if there is no Raft state'),
  key('clustering.raft.max.quorum.size', int(0), '0', 'max Raft voters; others join as non-voters (0 = no limit)'),
  key('clustering.raft.seed', int(0, INT32_MAX), 'random', "seed of the Raft timers' random numbers, to replay a run (unset = drawn at start; logged either way)", 'addition'),
  key('clustering.replica.max.lag.time', duration(true), '15s', 'drop a follower from the ISR after lagging this long'),
  key('clustering.replica.max.leader.timeout', duration(true), '15s', 'report a silent partition leader after this long'),
  key('clustering.replica.max.idle.wait', duration(true), '10s', 'max sleep of a caught-up follower (< replica.max.lag.time)'),
  key('clustering.replica.fetch.timeout', duration(true), '3s', 'follower replication request timeout'),
  key('clustering.broker.heartbeat.interval', duration(true), '500ms', 'how often a server tells the others it is alive', 'addition'),
  key('clustering.broker.timeout', duration(true), '3s', 'the controller marks a silent server unreachable (and moves its partition leaders) after this long', 'addition'),
  key('clustering.min.insync.replicas', int(1), '1', 'default minimum ISR size for a commit'),
  key('clustering.replication.max.bytes', int(1), '1048576', 'max replication response and accepted message size'),
  key('clustering.auth.secret', { type: 'string', secret: true }, '(unset)', 'shared secret that signs the cluster\'s internal NATS messages (at least 32 bytes; unset = unauthenticated)', 'addition'),
  key('clustering.auth.secret.file', path, '(unset)', 'file holding clustering.auth.secret (trailing newlines dropped)', 'addition'),
  key('activity.stream.enabled', bool, 'false', 'publish metadata events to the __activity stream'),
  key('activity.stream.publish.timeout', duration(true), '5s', 'activity publish acknowledgement timeout'),
  key(
    'activity.stream.publish.ack.policy',
    {
      type: 'enum',
      values: ['none', 'leader', 'all'],
      invalid: (v) => `Unknown activity stream publish ack policy ${JSON.stringify(v)}`,
    },
    'all',
    'ack policy of activity publishes: none, leader or all',
  ),
  key('cursors.stream.partitions', int(0, INT32_MAX), '0', 'partitions of the __cursors stream (0 = cursors disabled)'),
  key('cursors.stream.replication.factor', int(-1, INT32_MAX), '-1', 'replication factor of __cursors (-1 = all servers)'),
  key('cursors.stream.auto.pause.time', duration(false), '1m', 'auto-pause time of idle __cursors partitions (0 = never)'),
  key('groups.consumer.timeout', duration(true), '15s', 'drop a group member without assignment fetches for this long'),
  key('groups.coordinator.timeout', duration(true), '15s', 'report a silent group coordinator after this long'),
  key('http.port', int(0, 65_535), '0', 'HTTP port for /metrics, /healthz and /readyz (0 = no HTTP server)', 'addition'),
  key('http.host', { type: 'string', format: 'host' }, '0.0.0.0', 'bind host of the HTTP server', 'addition'),
  key('metrics.enabled', bool, 'true', 'collect Prometheus metrics (served at /metrics when http.port is set)', 'addition'),
  key('telemetry.enabled', bool, 'false', 'accepted for compatibility and ignored: telemetry is always off', 'ignored'),
  key('telemetry.interval.seconds', int(0), '86400', 'accepted for compatibility and ignored', 'ignored'),
];

const BY_KEY: ReadonlyMap<string, ConfigKeySpec> = new Map(CONFIG_KEYS.map((s) => [s.key, s]));

export const findKeySpec = (k: string): ConfigKeySpec | undefined => BY_KEY.get(k);

/** `streams.segment.max.bytes` → `LIFTBRIDGE_STREAMS_SEGMENT_MAX_BYTES` (docs/compatibility.md "Go quirks" #10: dots map to `_`). */
export const envVarName = (k: string): string => `LIFTBRIDGE_${k.replace(/\./g, '_').toUpperCase()}`;

/** Not a key but read by the broker: the master key for encryption at rest (docs/encryption.md). */
export const ENCRYPTION_KEY_ENV = MASTER_KEY_ENV;
/** Fallback for nats.embedded.binary, shared with scripts/ensure.js. */
export const NATS_SERVER_BIN_ENV = 'LIFTBRIDGE_NATS_SERVER_BIN';
