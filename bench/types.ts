import type { ApiClient } from '../src/adapters/inbound/grpc/api-service-definition';

export interface BenchConfig {
  readonly quick: boolean;
  readonly runs: number;
  /** Value sizes in bytes. */
  readonly sizes: readonly number[];
  /** Messages per run of the pipelined publish cases (JetStream, Liftbridge NATS and PublishAsync). */
  readonly publishCount: number;
  /** Messages per run of core NATS (cheap, so more of them for a stable figure). */
  readonly coreCount: number;
  /** Messages per run of unary Publish (one at a time, so fewer). */
  readonly unaryCount: number;
  /** Messages pre-filled and read per run of catch-up Subscribe, and streamed by the gRPC ceiling. */
  readonly catchupCount: number;
  /** Unacknowledged messages kept in flight by the pipelined publish cases. */
  readonly window: number;
  readonly resultsPath: string;
}

/** What the cases need: addresses of the servers the bench started and a typed control client. */
export interface BenchContext {
  readonly config: BenchConfig;
  readonly natsUrl: string;
  readonly liftbridgeAddress: string;
  readonly ceilingAddress: string;
  /** Typed client for CreateStream / DeleteStream (not used on hot paths). */
  readonly control: ApiClient;
  progress(line: string): void;
}

/** One timed run of one case at one size. */
export interface Sample {
  readonly messages: number;
  readonly seconds: number;
  /** Mean protobuf bytes per Message received (Subscribe cases only). */
  readonly wireBytesPerMessage?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

export type CaseId =
  | 'core-nats'
  | 'jetstream-r1'
  | 'grpc-ceiling'
  | 'lb-nats-publish'
  | 'lb-publish-async'
  | 'lb-publish-unary'
  | 'lb-catchup-subscribe';

export interface BenchCase {
  readonly id: CaseId;
  readonly title: string;
  run(ctx: BenchContext, size: number, run: number): Promise<Sample>;
}
