import * as fs from 'node:fs/promises';
import { DamagedPartitionReport } from '../../application/partitions/partition-health-monitor';
import { Logger } from '../../application/ports/logger.port';
import { RaftMetadataLog } from '../../application/metadata/raft-metadata-log';
import { OperabilityHttpServer, Readiness } from '../../adapters/inbound/http/operability-http-server';
import { BrokerConfig } from '../config/broker-config';
import { BrokerRoot, brokerMetrics, composeBroker } from '../di/compose-broker';
import { PartitionLogStoreFactory } from '../di/modules/filesystem.module';
import { ApiSecurity } from './api-security';
import { ClusterResources } from './cluster-resources';
import { DataDirLock } from './data-dir-lock';
import { InternalTraffic } from './internal-traffic';
import { NatsConnections } from './nats-connections';
import { startOperabilityHttp } from './operability-http';
import { replicationMaxBytesProblem } from './replication-size-check';
import { readinessOf } from './readiness';
import { toServerSettings } from './server-settings-from-config';
import { resolveServerId } from './server-id';
import { checkStartSettings } from './start-checks';

export interface BrokerExtensions {
  /** Replaces the filesystem partition-log adapter with your own (it must pass the contract suite). */
  readonly partitionLogStore?: PartitionLogStoreFactory;
}

/** How long unary calls in flight may finish before partitions close at shutdown. */
const IN_FLIGHT_GRACE_MS = 1000;
/** Grace period for in-flight RPCs at shutdown, counted once leadership has moved away. */
const SHUTDOWN_GRACE_MS = 5000;
/**
 * Bound on the controlled shutdown (partition leadership and the controller role handed over);
 * what is not done by then fails over after the broker timeout, as after a crash.
 */
const CONTROLLED_SHUTDOWN_TIMEOUT_MS = 5000;

type StopStep = (name: string, run: () => Promise<void>) => Promise<void>;

/**
 * One liftbridge-ts server: the lifecycle shell around its container (docs/architecture.md
 * "Composition"). It owns the resources the container is built from (the data-dir lock, the
 * operability HTTP server, NATS and the embedded nats-server, the cluster's opened transports) and
 * the gRPC server's serving state; the services start and stop in the order of `ServerLifecycle`.
 * Anything that fails during start stops what was already started.
 */
export class Broker {
  private lock: DataDirLock | null = null;
  private nats: NatsConnections | null = null;
  private cluster: ClusterResources | null = null;
  private root: BrokerRoot | null = null;
  /** TLS certificates and authorization of the client API (reloaded on SIGHUP). */
  private security: ApiSecurity | null = null;
  private http: OperabilityHttpServer | null = null;
  private stopped: Promise<void> | null = null;
  private serving = false;
  private serverIdValue = '';
  /** Another server announcing itself as a bootstrap seed in our namespace (docs/cluster.md), if any. */
  private seedConflict: string | null = null;
  /** Aborted by stop(): ends a start that is still waiting for NATS. */
  private readonly startAbort = new AbortController();
  /** Aborted by `stopNow`: the controlled shutdown gives way to the plain stop. */
  private readonly plainStop = new AbortController();

  constructor(
    private readonly config: BrokerConfig,
    private readonly logger: Logger,
    /** Extension points wired through the same container (docs/custom-storage.md). */
    private readonly extensions: BrokerExtensions = {},
  ) {}

  get serverId(): string {
    return this.serverIdValue;
  }

  get port(): number {
    return this.root?.grpc.port ?? 0;
  }

  /** The bound port of the operability HTTP server (0 when it is off). */
  get httpPort(): number {
    return this.http?.port ?? 0;
  }

  /** The metadata Raft group's log (null before start); tests inspect its status. */
  get metadataLog(): RaftMetadataLog | null {
    return this.root?.metadataLog ?? null;
  }

  /**
   * Partitions with damaged records on this server (GET /partitions/damaged; docs/operability.md).
   * Kept out of `readiness`: damage on one partition does not stop this server serving the others.
   */
  damagedPartitions(): DamagedPartitionReport[] {
    return this.root?.partitions.damagedPartitions() ?? [];
  }

  /** /readyz: NATS reached and connected, metadata loaded, gRPC serving, storage writable, no other seed (readiness.ts). */
  readiness(): Readiness {
    const root = this.root;
    return readinessOf({
      natsUp: this.nats?.allUp ?? false,
      natsUnreachable: this.nats?.unreachable ?? null,
      metadataLoaded: root?.lifecycle.registered ?? false,
      serving: this.serving && this.stopped === null,
      partitionStorageFailures: root?.partitions.storageFailures() ?? [],
      metadataStorageFailure: root?.metadataLog.storageFailure ?? null,
      partitionsNotStarted: root?.partitions.partitionsNotStarted() ?? [],
      otherSeed: this.seedConflict === null ? null : { serverId: this.seedConflict, namespace: this.config.clustering.namespace },
    });
  }

  async start(): Promise<void> {
    try {
      await this.startInOrder();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** The start, phase by phase: each phase fails closed, and `stop` undoes what was started. */
  private async startInOrder(): Promise<void> {
    const config = this.config;
    const checked = await checkStartSettings(config); // fail closed before anything starts
    const security = (this.security = await ApiSecurity.open(config, this.logger));
    await fs.mkdir(config.dataDir, { recursive: true });
    this.lock = await DataDirLock.acquire(config.dataDir);
    this.serverIdValue = await resolveServerId(config.dataDir, config.clustering.serverId);
    this.logger.info(
      { serverId: this.serverIdValue, namespace: config.clustering.namespace, dataDir: config.dataDir, descriptorLimit: checked.descriptorLimit, partitionLogOpenFilesMax: checked.openFilesMax },
      'starting liftbridge-ts',
    );
    const metrics = brokerMetrics(config);
    // Before NATS: /healthz answers and /readyz says why not ready while start-up waits for NATS.
    this.http = await startOperabilityHttp(config.http, metrics, { checks: () => this.readiness() }, () => this.damagedPartitions(), this.logger);
    const nats = (this.nats = new NatsConnections(config, this.serverIdValue, metrics, this.logger, this.startAbort.signal));
    await nats.start();
    const streams = await nats.open('streams');
    const publishes = await nats.open('publishes');
    const sizeProblem = replicationMaxBytesProblem(config.clustering.replicationMaxBytes, [streams.info?.max_payload, publishes.info?.max_payload]);
    if (sizeProblem !== null) throw new Error(sizeProblem);
    const internal = new InternalTraffic(checked.secret, config.clustering.namespace, metrics, this.logger);
    this.cluster = new ClusterResources(config, this.serverIdValue, this.logger, metrics, (other) => (this.seedConflict = other));
    const cluster = await this.cluster.open(internal, (name) => nats.open(name));
    this.root = composeBroker({
      config,
      settings: toServerSettings(config, this.serverIdValue, config.advertise.port),
      logger: this.logger,
      metrics,
      openFilesMax: checked.openFilesMax,
      partitionLogStore: this.extensions.partitionLogStore,
      api: { certificates: security.certificates, authorizer: security.authorizer },
      nats: { streams, publishes },
      cluster,
      internal,
    });
    await this.startServices(this.root);
  }

  /** The services in their order, with gRPC bound before registering when the advertised port is known only once bound. */
  private async startServices(root: BrokerRoot): Promise<void> {
    const { advertise, listen } = this.config;
    await root.lifecycle.start();
    // With port 0 the advertised port is known only once bound, so bind first in that case.
    // Otherwise everything is ready before the first call can arrive.
    let boundPort: number;
    if (advertise.port === 0 || listen.port === 0) {
      boundPort = await root.grpc.start();
      await root.lifecycle.register(advertise.port === 0 ? boundPort : advertise.port);
    } else {
      await root.lifecycle.register(advertise.port);
      boundPort = await root.grpc.start();
    }
    root.grpc.markServing();
    this.serving = true;
    const advertisePort = advertise.port === 0 ? boundPort : advertise.port;
    this.logger.info({ listen: `${listen.host}:${boundPort}`, advertise: `${advertise.host}:${advertisePort}` }, 'liftbridge-ts started');
  }

  /**
   * SIGHUP: the client API's certificates and authorization policy are read again; what cannot be
   * used is logged and the one in force kept (docs/security.md "Reloading").
   */
  async reloadSecurity(): Promise<void> {
    if (this.security === null) this.logger.info({}, 'SIGHUP: nothing to reload yet (not started)');
    else await this.security.reload();
  }

  /** Idempotent; safe to call after a failed start. Hands leadership over first (controlled shutdown). */
  stop(): Promise<void> {
    this.startAbort.abort();
    if (!this.stopped) this.stopped = this.stopInOrder();
    return this.stopped;
  }

  /** Skips what is left of the controlled shutdown (a second SIGTERM): the stop goes on plainly. */
  stopNow(): Promise<void> {
    this.plainStop.abort();
    return this.stop();
  }

  private async stopInOrder(): Promise<void> {
    const stopStartedMs = performance.now();
    const step: StopStep = async (name, run) => {
      try {
        await run();
      } catch (error) {
        this.logger.error({ err: error, step: name }, 'error while stopping');
      }
    };
    // New calls are refused (health NOT_SERVING); open ones go on while leadership moves, so a
    // publisher connected here keeps getting its acks through this server during the hand-over.
    const started = this.serving;
    this.serving = false;
    this.cluster?.stopAnnouncing();
    const root = this.root;
    if (root) await this.stopServices(root, started, step);
    if (this.cluster) await step('raft-transport', () => this.cluster!.closeTransport());
    if (this.nats) await this.nats.close(step);
    this.security?.close();
    if (this.http) await step('http', () => this.http!.stop());
    if (this.lock) await step('lock', () => this.lock!.release());
    this.logger.info({ stopMs: Math.round(performance.now() - stopStartedMs) }, 'liftbridge-ts stopped');
  }

  /** Controlled shutdown, open calls ended, gRPC stopped with a grace period, then the services and the adapters over NATS. */
  private async stopServices(root: BrokerRoot, started: boolean, step: StopStep): Promise<void> {
    root.calls.beginDrain();
    void root.grpc.beginShutdown();
    if (started) await step('controlled-shutdown', () => this.handOver(root));
    // Streaming calls end now (UNAVAILABLE: subscribers resubscribe to the new leaders, publishers
    // reconnect); unary calls in flight (a publish waiting for its ack) get a moment to finish
    // before the partitions close; the rest of the grace period applies after that.
    root.calls.endAll();
    const grpcStopped = root.grpc.stop(SHUTDOWN_GRACE_MS);
    await Promise.race([grpcStopped, new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_GRACE_MS).unref())]);
    await root.lifecycle.stop(grpcStopped); // logs its own failures
    for (const adapter of root.adapters) await step(adapter.name, () => adapter.close());
  }

  /** Controlled shutdown: partition leadership and the controller role move to peers first. */
  private async handOver(root: BrokerRoot): Promise<void> {
    const report = await root.lifecycle.handOver(CONTROLLED_SHUTDOWN_TIMEOUT_MS, this.plainStop.signal);
    if (report === null) return;
    if (report.skipped !== null) {
      this.logger.info({ reason: report.skipped }, 'controlled shutdown skipped');
      return;
    }
    const level = report.kept.length > 0 || report.controller === 'kept' || report.interrupted ? 'warn' : 'info';
    const { handedOver, kept, isrsLeft, controller, newController, interrupted, elapsedMs, stepsMs } = report;
    this.logger[level](
      { handedOver: handedOver.length, kept, isrsLeft, controller, newController, interrupted, elapsedMs, stepsMs },
      'controlled shutdown: leadership handed over',
    );
  }
}
