import type { ApiClient } from '../src/protocol/api-service-definition';
import type { ChildRegistry } from './support/children';

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
  /** maxInFlight of the client AsyncPublisher case (the client's default, so the case measures the client as it is used). */
  readonly clientWindow: number;
  /** Only these case ids (`--cases`); all when absent. */
  readonly cases?: readonly string[];
  readonly resultsPath: string;
}

/** A liftbridge-ts server process the bench started: its gRPC address and a typed control client. */
export interface LiftbridgeTarget {
  readonly address: string;
  /** Typed client for CreateStream / DeleteStream (not used on hot paths). */
  readonly control: ApiClient;
}

/** The three-node nats-server cluster with JetStream the bench started: each node's server name and client URL. */
export interface JetStreamClusterTarget {
  readonly servers: readonly { readonly name: string; readonly url: string }[];
}

/** What the cases need: addresses of the servers the bench started and a typed control client. */
export interface BenchContext {
  readonly config: BenchConfig;
  readonly natsUrl: string;
  /** The main liftbridge-ts server (metrics on, the default). */
  readonly liftbridgeAddress: string;
  readonly ceilingAddress: string;
  /** Typed client for CreateStream / DeleteStream on the main server (not used on hot paths). */
  readonly control: ApiClient;
  /** The second liftbridge-ts server, same nats-server, started with LIFTBRIDGE_METRICS_ENABLED=false. */
  readonly metricsOff: LiftbridgeTarget;
  /** A third server with metrics on whose only load is the same as metricsOff's (a fair twin). */
  readonly metricsOnTwin: LiftbridgeTarget;
  /**
   * A three-server liftbridge-ts cluster (seed + two auto-joined) on the same nats-server, for the
   * replicated cases; `address` and `control` are the seed's. Null outside the cluster phase (the
   * clusters are started when it begins).
   */
  readonly cluster: LiftbridgeTarget | null;
  /** Three nats-servers with JetStream routed into one cluster, for the JetStream R3 case; null outside the cluster phase. */
  readonly jetStreamCluster: JetStreamClusterTarget | null;
  /** Starts a child process that is stopped with the bench (and killed if the bench dies). */
  readonly children: ChildRegistry;
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
  /**
   * CPU milliseconds used during the run per process group ("bench" is this process, the client;
   * "idle" the machine's idle time over all CPUs), filled in by the runner on Linux.
   */
  readonly cpuMs?: Readonly<Record<string, number>>;
  /** The bench process's CPU milliseconds in the timed part only (support/timed-cpu.ts), when the case times one. */
  readonly clientCpuMs?: number;
  /** Megabytes (10^6 bytes) written to the machine's disks during the run (any process). */
  readonly diskWrittenMB?: number;
  /**
   * Failover cases: per partition, ms from a group member's death until another member received
   * that partition's first message, and the consumer timeout that bounds it (lb-group-member-death).
   */
  readonly failover?: { readonly partitionsMs: readonly number[]; readonly consumerTimeoutMs: number };
}

export type CaseId =
  | 'core-nats'
  | 'jetstream-r1'
  | 'grpc-ceiling'
  | 'lb-nats-publish'
  | 'lb-nats-publish-metrics-off'
  | 'lb-nats-publish-metrics-on-twin'
  | 'lb-publish-async'
  | 'lb-publish-async-grpcjs'
  | 'lb-client-async-publisher'
  | 'jetstream-r1-unary'
  | 'lb-publish-unary'
  | 'lb-publish-unary-all'
  | 'lb-set-cursor'
  | 'lb-catchup-subscribe'
  | 'lb-group-member-death'
  | 'jetstream-r3'
  | 'lb-nats-publish-all-r3'
  | 'lb-nats-publish-all-r1';

export interface BenchCase {
  readonly id: CaseId;
  readonly title: string;
  /** Which liftbridge-ts server an `lb-` case uses (default: the main one). */
  readonly liftbridge?: 'main' | 'metrics-off' | 'metrics-on-twin' | 'cluster';
  /**
   * 'clusters' for the cases on the three-node clusters: they are warmed up and timed in a phase of
   * their own after every single-node case, so that what they leave running (busy followers, a
   * JetStream cluster's unsynced writes) does not weigh on the single-node comparisons.
   */
  readonly phase?: 'clusters';
  run(ctx: BenchContext, size: number, run: number): Promise<Sample>;
}
