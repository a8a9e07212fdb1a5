/**
 * The history a fault scenario records (docs/reliability.md, "The checker"): every publish attempt
 * with its outcome, every record a consumer was given, and the logs read at the end.
 *
 * Values are unique per attempt: `<producer>-<seq>-<attempt>`. A retry of the same message (same
 * producer and seq, next attempt) is a new value, so a record read twice is a duplicate of one
 * attempt (never allowed), while one message at two offsets through two attempts is a retry
 * duplicate (allowed when an earlier attempt ended without a definite answer).
 */
export type AckMode = 'all' | 'leader';

/** ok: acknowledged at `offset`; fail: a definite error (not appended); info: unknown (timeout, unavailable). */
export type PublishResult =
  | { readonly type: 'ok'; readonly offset: number }
  | { readonly type: 'fail'; readonly code: string }
  | { readonly type: 'info'; readonly code: string };

export interface PublishAttempt {
  readonly stream: string;
  readonly partition: number;
  readonly ackMode: AckMode;
  readonly value: string;
  /** The message (producer and seq) this attempt is for. */
  readonly message: string;
  readonly attempt: number;
  /** Monotonic milliseconds (performance.now of the test process). */
  readonly invokedMs: number;
  completedMs: number;
  result: PublishResult;
  /** Every offset an ack named for this attempt: more than one distinct offset is a double ack (C13). */
  readonly ackOffsets: number[];
  readonly via: string;
}

export interface Delivery {
  readonly stream: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  /** Which consumer and broker delivered it. */
  readonly source: string;
}

/** A committed log read at the end: from the leader (the final drain) or from one replica. */
export interface LogRead {
  readonly stream: string;
  readonly partition: number;
  /** Where it was read: 'leader' for the final drain, else a replica id. */
  readonly source: string;
  readonly startOffset: number;
  readonly records: readonly { readonly offset: number; readonly value: string; readonly timestampNs: bigint }[];
}

export interface History {
  readonly attempts: PublishAttempt[];
  readonly deliveries: Delivery[];
  readonly finalLogs: LogRead[];
  readonly replicaLogs: LogRead[];
}

export const emptyHistory = (): History => ({ attempts: [], deliveries: [], finalLogs: [], replicaLogs: [] });

export const valueOf = (producer: string, seq: number, attempt: number): string => `${producer}-${seq}-${attempt}`;

/** The message part (`<producer>-<seq>`) of a value, or null for a value no producer of ours makes. */
export function messageOf(value: string): string | null {
  const m = /^(.+-\d+)-\d+$/.exec(value);
  return m ? m[1]! : null;
}

export const partitionKey = (stream: string, partition: number): string => `${stream}/${partition}`;
