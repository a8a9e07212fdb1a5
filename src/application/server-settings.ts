import { AckPolicy } from '../domain/shared/wire-enums';
import { SyncPolicy } from './ports/partition-log.port';

/** Server-wide defaults a stream falls back to (docs/protocol.md "Stream options"), resolved from configuration. */
export interface StreamDefaults {
  readonly retentionMaxBytes: number;
  readonly retentionMaxMessages: number;
  readonly retentionMaxAgeMs: number;
  readonly cleanerIntervalMs: number;
  readonly segmentMaxBytes: number;
  readonly segmentMaxAgeMs: number;
  readonly autoPauseTimeMs: number;
  readonly autoPauseDisableIfSubscribers: boolean;
  readonly concurrencyControl: boolean;
  /** Streams created without the `encryption` option get this value, fixed at creation (docs/encryption.md). */
  readonly encryption: boolean;
  readonly minIsr: number;
  readonly syncPolicy: SyncPolicy;
  readonly syncIntervalMs: number;
}

/** The activity stream (docs/consumers.md "Activity stream"), `activity.stream.*`. */
export interface ActivitySettings {
  readonly publishTimeoutMs: number;
  readonly ackPolicy: AckPolicy;
}

/** The `__cursors` stream (docs/consumers.md "Cursors"); `partitions` 0 = cursors disabled. */
export interface CursorSettings {
  readonly partitions: number;
  /** -1 = every server at creation time. */
  readonly replicationFactor: number;
  readonly autoPauseTimeMs: number;
}

/** Consumer groups (docs/consumers.md "Consumer groups"), `groups.*`. */
export interface GroupSettings {
  /** The coordinator expires a member it has not heard from for this long. */
  readonly consumerTimeoutMs: number;
  /** A member reports its coordinator after this long without an answer; reports stay valid this long. */
  readonly coordinatorTimeoutMs: number;
}

/** What the application needs to know about this server; built from BrokerConfig at the root. */
export interface ServerSettings {
  readonly serverId: string;
  /**
   * This run of the server, distinct from its earlier runs (random at start): metadata proposal ids
   * carry it, so that an entry proposed before a restart that commits after it never answers a
   * request of the new run.
   */
  readonly bootId: string;
  readonly namespace: string;
  readonly advertiseHost: string;
  readonly advertisePort: number;
  readonly batchMaxMessages: number;
  /** Largest NATS payload accepted for a stream (TOO_LARGE above), `clustering.replication.max.bytes` (docs/configuration.md "Keys"). */
  readonly replicationMaxBytes: number;
  readonly streamDefaults: StreamDefaults;
  readonly cursors: CursorSettings;
  readonly groups: GroupSettings;
  /** How long a metadata change may take before the caller gets an error. */
  readonly metadataTimeoutMs: number;
  /** Bytes a subscriber reads from the log per step. */
  readonly subscribeReadBytesMax: number;
  /** How often this server announces that it is alive (docs/cluster.md "Failure detection"). */
  readonly heartbeatIntervalMs: number;
  /** The controller marks a broker unreachable after this long without a heartbeat. */
  readonly brokerTimeoutMs: number;
  /** A partition leader acknowledges only within this long of hearing the metadata group (< brokerTimeoutMs). */
  readonly ackLeaseMs: number;
  /** Partition replication (docs/replication.md "The protocol step by step"): ISR lag limit, follower request timeout, leader long-poll. */
  readonly replication: {
    readonly maxLagTimeMs: number;
    readonly fetchTimeoutMs: number;
    /** A follower reports its leader to the controller after this long without an answer (docs/replication.md "Failover"). */
    readonly leaderTimeoutMs: number;
    /** How long a leader holds a caught-up follower's fetch open waiting for new records. */
    readonly fetchWaitMs: number;
  };
  /** Absent: the activity stream is off (`activity.stream.enabled: false`). */
  readonly activity?: ActivitySettings;
}
