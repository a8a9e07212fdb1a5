import type * as api from '../protocol/api-types';
import { AckPolicy, StartPosition, StopPosition } from '../protocol/api-types';
import type { Partitioner } from './partitioner';

export { AckPolicy, StartPosition, StopPosition };
export type { Ack, Broker, PartitionMetadata, StreamMetadata, FetchMetadataResponse } from '../protocol/api-types';

/** Bytes accepted wherever the client takes a key, value or header value. */
export type Bytes = Buffer | Uint8Array | string;

/** Shared: an empty Buffer cannot be changed, and most messages have no key. */
const EMPTY = Buffer.alloc(0);

export function toBuffer(bytes: Bytes | undefined): Buffer {
  if (bytes === undefined) return EMPTY;
  if (typeof bytes === 'string') return Buffer.from(bytes, 'utf8');
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** CreateStream options (docs/protocol.md "CreateStreamRequest", "Stream options"); absent = server default. Durations in milliseconds. */
export interface CreateStreamOptions {
  readonly partitions?: number;
  /** -1 = the cluster size. Default 1. */
  readonly replicationFactor?: number;
  /** Load-balance group: each message goes to one stream of the group. */
  readonly group?: string;
  readonly retentionMaxBytes?: bigint | number;
  readonly retentionMaxMessages?: bigint | number;
  readonly retentionMaxAgeMs?: bigint | number;
  readonly cleanerIntervalMs?: bigint | number;
  readonly segmentMaxBytes?: bigint | number;
  readonly segmentMaxAgeMs?: bigint | number;
  readonly compactMaxGoroutines?: number;
  readonly compactEnabled?: boolean;
  readonly autoPauseTimeMs?: bigint | number;
  readonly autoPauseDisableIfSubscribers?: boolean;
  readonly minIsr?: number;
  readonly optimisticConcurrencyControl?: boolean;
  readonly encryption?: boolean;
}

/** Options shared by `publish` and `AsyncPublisher.publish`. */
export interface PublishOptions {
  readonly key?: Bytes;
  readonly headers?: Readonly<Record<string, Bytes>>;
  /** Explicit partition; wins over `partitioner`. */
  readonly partition?: number;
  /** Picks the partition (byKey, roundRobin(), ...). Default: partition 0. */
  readonly partitioner?: Partitioner;
  /** Default LEADER. With NONE no ack is awaited and the result is `undefined`. */
  readonly ackPolicy?: AckPolicy;
  /** Optimistic concurrency control: the offset the message must get; -1 (default) = no check. */
  readonly expectedOffset?: bigint | number;
  /** Default: a random id. */
  readonly correlationId?: string;
  /** How long to wait for the ack; default the client's `ackWaitTimeMs` (5 s). */
  readonly timeoutMs?: number;
}

/** Subscribe options (docs/protocol.md "Subscribe"). Default start: NEW_ONLY on partition 0. */
export interface SubscribeOptions {
  readonly partition?: number;
  readonly startPosition?: StartPosition;
  /** Implies StartPosition.OFFSET when `startPosition` is not given. */
  readonly startOffset?: bigint | number;
  /** Unix nanoseconds; implies StartPosition.TIMESTAMP when `startPosition` is not given. */
  readonly startTimestamp?: bigint | number;
  readonly stopPosition?: StopPosition;
  /** Implies StopPosition.STOP_OFFSET when `stopPosition` is not given. */
  readonly stopOffset?: bigint | number;
  /** Unix nanoseconds; implies StopPosition.STOP_TIMESTAMP when `stopPosition` is not given. */
  readonly stopTimestamp?: bigint | number;
  /** Read from a random ISR member instead of the leader. */
  readonly readIsrReplica?: boolean;
  /** Resume the partition if it is paused. */
  readonly resume?: boolean;
  /** Messages buffered before the gRPC stream is paused. Default 512. */
  readonly highWaterMark?: number;
  /** A consumer-group member's subscription (SubscribeRequest field 11): the leader fences older epochs of the group. */
  readonly consumer?: { readonly groupId: string; readonly groupEpoch: bigint; readonly consumerId: string };
}

/** A message read from a partition. */
export interface ReceivedMessage {
  readonly stream: string;
  readonly partition: number;
  readonly offset: bigint;
  /** Unix nanoseconds. */
  readonly timestamp: bigint;
  readonly key: Buffer;
  readonly value: Buffer;
  /** User headers; the server also sets `subject` (and `reply` when present). */
  readonly headers: Readonly<Record<string, Buffer>>;
  readonly subject: string;
  readonly replySubject: string;
  readonly correlationId: string;
  readonly ackInbox: string;
  readonly ackPolicy: AckPolicy;
}

export function toReceivedMessage(m: api.Message): ReceivedMessage {
  return {
    stream: m.stream,
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key,
    value: m.value,
    headers: m.headers,
    subject: m.subject,
    replySubject: m.replySubject,
    correlationId: m.correlationId,
    ackInbox: m.ackInbox,
    ackPolicy: m.ackPolicy,
  };
}

const int64 = (v: bigint | number | undefined): api.NullableInt64 | undefined => (v === undefined ? undefined : { value: BigInt(v) });
const int32 = (v: number | undefined): api.NullableInt32 | undefined => (v === undefined ? undefined : { value: v });
const bool = (v: boolean | undefined): api.NullableBool | undefined => (v === undefined ? undefined : { value: v });

/** The wire request for `createStream`; absent options stay absent (server default). */
export function toCreateStreamRequest(name: string, subject: string, o: CreateStreamOptions = {}): api.CreateStreamRequest {
  const optional = {
    retentionMaxBytes: int64(o.retentionMaxBytes),
    retentionMaxMessages: int64(o.retentionMaxMessages),
    retentionMaxAge: int64(o.retentionMaxAgeMs),
    cleanerInterval: int64(o.cleanerIntervalMs),
    segmentMaxBytes: int64(o.segmentMaxBytes),
    segmentMaxAge: int64(o.segmentMaxAgeMs),
    compactMaxGoroutines: int32(o.compactMaxGoroutines),
    compactEnabled: bool(o.compactEnabled),
    autoPauseTime: int64(o.autoPauseTimeMs),
    autoPauseDisableIfSubscribers: bool(o.autoPauseDisableIfSubscribers),
    minIsr: int32(o.minIsr),
    optimisticConcurrencyControl: bool(o.optimisticConcurrencyControl),
    encryption: bool(o.encryption),
  };
  const present = Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined));
  return {
    name,
    subject,
    group: o.group ?? '',
    replicationFactor: o.replicationFactor ?? 1,
    partitions: o.partitions ?? 1,
    ...present,
  };
}

/** The wire request for a subscription starting as `o` says. */
export function toSubscribeRequest(stream: string, o: SubscribeOptions = {}): api.SubscribeRequest {
  const startPosition =
    o.startPosition ??
    (o.startOffset !== undefined ? StartPosition.OFFSET : o.startTimestamp !== undefined ? StartPosition.TIMESTAMP : StartPosition.NEW_ONLY);
  const stopPosition =
    o.stopPosition ??
    (o.stopOffset !== undefined ? StopPosition.STOP_OFFSET : o.stopTimestamp !== undefined ? StopPosition.STOP_TIMESTAMP : StopPosition.STOP_ON_CANCEL);
  return {
    stream,
    partition: o.partition ?? 0,
    startPosition,
    startOffset: BigInt(o.startOffset ?? 0),
    startTimestamp: BigInt(o.startTimestamp ?? 0),
    stopPosition,
    stopOffset: BigInt(o.stopOffset ?? 0),
    stopTimestamp: BigInt(o.stopTimestamp ?? 0),
    readISRReplica: o.readIsrReplica ?? false,
    resume: o.resume ?? false,
    reverse: false,
    ...(o.consumer ? { consumer: o.consumer } : {}),
  };
}

/** A cursor: `id` of a consumer's position in `stream`/`partition` (0 by default). */
export interface CursorAddress {
  readonly id: string;
  readonly stream: string;
  readonly partition?: number;
}

export interface SetCursorOptions {
  /** Asked before every attempt of the write (the first and each retry); false abandons it. */
  readonly attemptIf?: () => boolean;
}
