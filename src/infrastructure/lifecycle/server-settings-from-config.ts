import { randomBytes } from 'node:crypto';
import { ACTIVITY_ACK_POLICIES } from '../../application/activity/activity-dispatcher';
import { ServerSettings } from '../../application/server-settings';
import { BrokerConfig } from '../config/broker-config';
import { BROKER_TIMEOUT_MIN_MS } from '../config/build-broker-config';

/** Random bytes telling runs of a server apart (ServerSettings.bootId): 2^-64 odds of two alike. */
const BOOT_ID_BYTES = 8;
/** Bytes a subscription reads from the log per step. */
const SUBSCRIBE_READ_BYTES = 1024 * 1024;
/**
 * A partition leader acknowledges only while it heard the metadata group this recently (the Raft
 * election timeout); `clustering.broker.timeout` must be longer (checked at start).
 */
export const ACK_LEASE_MS = BROKER_TIMEOUT_MIN_MS;
/** A caught-up follower's fetch waits this long at most at the leader for new records (long poll). */
const FETCH_WAIT_MS = 500;

export function toServerSettings(config: BrokerConfig, serverId: string, advertisePort: number): ServerSettings {
  const s = config.streams;
  return {
    serverId,
    bootId: randomBytes(BOOT_ID_BYTES).toString('hex'),
    namespace: config.clustering.namespace,
    advertiseHost: config.advertise.host,
    advertisePort,
    batchMaxMessages: config.batch.maxMessages,
    replicationMaxBytes: config.clustering.replicationMaxBytes,
    metadataTimeoutMs: 5000,
    subscribeReadBytesMax: SUBSCRIBE_READ_BYTES,
    heartbeatIntervalMs: config.clustering.brokerHeartbeatIntervalMs,
    brokerTimeoutMs: config.clustering.brokerTimeoutMs,
    ackLeaseMs: ACK_LEASE_MS,
    replication: {
      maxLagTimeMs: config.clustering.replicaMaxLagTimeMs,
      fetchTimeoutMs: config.clustering.replicaFetchTimeoutMs,
      leaderTimeoutMs: config.clustering.replicaMaxLeaderTimeoutMs,
      // clustering.replica.max.idle.wait bounds how long a caught-up follower waits for new records.
      fetchWaitMs: Math.min(FETCH_WAIT_MS, config.clustering.replicaMaxIdleWaitMs, Math.floor(config.clustering.replicaFetchTimeoutMs / 2)),
    },
    streamDefaults: {
      retentionMaxBytes: s.retentionMaxBytes,
      retentionMaxMessages: s.retentionMaxMessages,
      retentionMaxAgeMs: s.retentionMaxAgeMs,
      cleanerIntervalMs: s.cleanerIntervalMs,
      segmentMaxBytes: s.segmentMaxBytes,
      segmentMaxAgeMs: s.segmentMaxAgeMs,
      autoPauseTimeMs: s.autoPauseTimeMs,
      autoPauseDisableIfSubscribers: s.autoPauseDisableIfSubscribers,
      concurrencyControl: s.concurrencyControl,
      encryption: s.encryption,
      minIsr: config.clustering.minInsyncReplicas,
      syncPolicy: s.syncPolicy,
      syncIntervalMs: s.syncIntervalMs,
    },
    cursors: {
      partitions: config.cursors.streamPartitions,
      replicationFactor: config.cursors.streamReplicationFactor,
      autoPauseTimeMs: config.cursors.streamAutoPauseTimeMs,
    },
    groups: { consumerTimeoutMs: config.groups.consumerTimeoutMs, coordinatorTimeoutMs: config.groups.coordinatorTimeoutMs },
    ...(config.activity.streamEnabled
      ? { activity: { publishTimeoutMs: config.activity.publishTimeoutMs, ackPolicy: ACTIVITY_ACK_POLICIES[config.activity.publishAckPolicy] } }
      : {}),
  };
}
