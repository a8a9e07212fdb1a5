import type { Observable } from 'rxjs';
import type { PartitionRef } from '../../domain/shared/ids';
import type { Cancellable } from './clock.port';
import type { RecordBatch } from './partition-log.port';

/** A follower's fetch (docs/protocol.md "Internal messages", ReplicationRequest; docs/replication.md "The protocol step by step"). */
export interface ReplicationFetch {
  readonly replicaId: string;
  /** The follower's newest durable offset (-1 when empty): it has everything up to here on disk. */
  readonly offset: number;
  /** The leader epoch the follower follows; a leader of another epoch does not answer. */
  readonly leaderEpoch: number;
}

/** The leader's answer (docs/protocol.md "ReplicationResponse"). */
export interface ReplicationReply {
  readonly leaderEpoch: number;
  readonly highWatermark: number;
  /** Entries from `fetch.offset + 1`, exactly as stored; null when the follower is caught up. */
  readonly records: RecordBatch | null;
}

/** A follower's question (KIP-101/279), fenced by the epoch it follows (KIP-320). */
export interface EpochEndRequest {
  /** The follower's last epoch. */
  readonly leaderEpoch: number;
  /** The leader epoch the follower follows: a leader of another epoch does not answer. */
  readonly currentLeaderEpoch: number;
}

/** Kafka KIP-279: the leader's largest epoch <= the one asked for (-1: none) and its end offset (exclusive). */
export interface EpochEnd {
  readonly leaderEpoch: number;
  readonly endOffset: number;
}

/**
 * Fixed bytes in front of a reply's records: envelope header 8 + leader epoch 8 + high watermark 8
 * (docs/replication.md "Message size"). Like Go, `clustering.replication.max.bytes` counts them.
 */
export const REPLICATION_REPLY_HEADER_BYTES = 24;

/** The leader did not answer in time (none subscribed, stale epoch, or it is down): retry later. */
export class ReplicationUnavailableError extends Error {
  constructor(reason: string) {
    super(`partition leader did not answer: ${reason}`);
  }
}

/**
 * The data plane between partition replicas (docs/protocol.md "Subjects"; docs/replication.md "The protocol step by step"): fetches on
 * `<ns>.<stream>.<p>.replicate`, leader-epoch end offsets on `<ns>.<stream>.<p>.offset`, and
 * wake-up notifications on `<ns>.notify.<serverId>`.
 */
export interface ReplicationTransport {
  /** Follower → leader. Rejects with `ReplicationUnavailableError` on timeout or no responders. */
  fetch(ref: PartitionRef, request: ReplicationFetch, timeoutMs: number): Promise<ReplicationReply>;
  /** Leader: answers fetches until cancelled; `null` from the handler means "do not answer". */
  serveFetches(ref: PartitionRef, handler: (request: ReplicationFetch) => Promise<ReplicationReply | null>): Promise<Cancellable>;
  /** Follower → leader (KIP-101/279): where the leader's log diverges from ours at the latest. */
  leaderEpochEndOffset(ref: PartitionRef, request: EpochEndRequest, timeoutMs: number): Promise<EpochEnd>;
  /** Leader: answers end-offset requests until cancelled; `null` from the handler means "do not answer". */
  serveLeaderEpochEndOffsets(ref: PartitionRef, handler: (request: EpochEndRequest) => EpochEnd | null): Promise<Cancellable>;
  /**
   * The largest reply (header included) the transport can deliver now: for NATS the server's
   * `max_payload` from the connection's INFO, which can change after a reconnect to another server.
   */
  readonly payloadBytesMax: number;
  /** Leader → idle follower: new data in `ref` (fire and forget). */
  notify(followerId: string, ref: PartitionRef): void;
  /** Notifications addressed to this server. */
  readonly notifications$: Observable<PartitionRef>;
  close(): Promise<void>;
}
