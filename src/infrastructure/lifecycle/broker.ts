import { Container } from 'inversify';
import * as fs from 'node:fs/promises';
import { NatsConnection } from 'nats';
import * as path from 'node:path';
import { BrokerLiveness } from '../../application/cluster/broker-liveness';
import { ClusterMembership } from '../../application/cluster/cluster-membership';
import { ControlledShutdown } from '../../application/cluster/controlled-shutdown';
import { ControllerRole } from '../../application/cluster/controller-role';
import { MetadataGateway } from '../../application/cluster/metadata-gateway';
import { ContactTrackingRaftTransport } from '../../application/cluster/contact-tracking-raft-transport';
import { SystemClock } from '../../adapters/outbound/system/system-clock';
import { MetadataService } from '../../application/metadata/metadata-service';
import { RaftMetadataLog } from '../../application/metadata/raft-metadata-log';
import { PartitionSupervisor } from '../../application/partitions/partition-supervisor';
import { NatsUnavailableError } from '../../application/errors/broker-errors';
import { DamagedPartitionReport } from '../../application/partitions/partition-health-monitor';
import { Logger } from '../../application/ports/logger.port';
import { Metrics } from '../../application/ports/metrics.port';
import { ACK_LEASE_MS, toServerSettings } from './server-settings-from-config';
import { TOKENS } from '../../application/tokens';
import { FetchMetadataQuery } from '../../application/use-cases/fetch-metadata';
import { PublishHandler } from '../../application/use-cases/publish';
import { StreamAdminHandler } from '../../application/use-cases/stream-admin';
import { SubscribeHandler } from '../../application/use-cases/subscribe';
import { createApiHandlers } from '../../adapters/inbound/grpc/api-service';
import { GrpcApiServer } from '../../adapters/inbound/grpc/grpc-api-server';
import { StreamingCalls } from '../../adapters/inbound/grpc/streaming-calls';
import { OperabilityHttpServer, Readiness } from '../../adapters/inbound/http/operability-http-server';
import { NoMetrics } from '../../adapters/outbound/metrics/no-metrics';
import { AesValueEncryption } from '../../adapters/outbound/crypto/aes-value-encryption';
import { PrometheusMetrics } from '../../adapters/outbound/metrics/prometheus-metrics';
import { FilesystemRaftStorage } from '../../adapters/outbound/filesystem/raft/filesystem-raft-storage';
import { NatsClusterChannel } from '../../adapters/outbound/nats/nats-cluster-channel';
import type { InternalNatsConnection } from '../../adapters/outbound/nats/internal-connection';
import type { DroppedMessageLog } from '../../application/diagnostics/dropped-message-log';
import { openNatsConnection } from '../../adapters/outbound/nats/nats-connection-factory';
import { NatsRaftTransport } from '../../adapters/outbound/nats/nats-raft-transport';
import { NatsReplicationTransport } from '../../adapters/outbound/nats/nats-replication-transport';
import { NatsSeedConflictDetector } from '../../adapters/outbound/nats/nats-seed-conflict-detector';
import { TimerScheduler } from '../../adapters/outbound/system/timer-scheduler';
import { seededPrng } from '../../domain/shared/prng';
import { BrokerConfig } from '../config/broker-config';
import { createContainer } from '../di/create-container';
import { clusterModule } from '../di/modules/cluster.module';
import { filesystemModule, PartitionLogStoreFactory } from '../di/modules/filesystem.module';
import { natsModule } from '../di/modules/nats.module';
import { systemModule } from '../di/modules/system.module';
import { logReplayedMetadata, raftLogger } from '../logging/optional-log-lines';
import { EmbeddedNatsServer } from '../nats/embedded-nats-server';
import { namingNatsSettings, natsSecuritySettings } from '../nats/nats-security-settings';
import { ApiSecurity } from './api-security';
import { DataDirLock } from './data-dir-lock';
import { InternalTraffic } from './internal-traffic';
import { startOperabilityHttp } from './operability-http';
import { planRaftBootstrap, RaftBootstrapPlan } from './raft-bootstrap';
import { metadataRaftSettings } from './raft-settings';
import { replicationMaxBytesProblem } from './replication-size-check';
import { readinessOf } from './readiness';
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
/** How long start-up waits to register with a controller (a peer-bootstrapped group waits for its quorum). */
const REGISTER_TIMEOUT_MS = 60_000;

/**
 * One liftbridge-ts server: ordered start (docs/architecture.md "Composition") and the reverse on stop. Anything that fails
 * during start stops what was already started.
 */
export class Broker {
  private lock: DataDirLock | null = null;
  private embedded: EmbeddedNatsServer | null = null;
  private connections: NatsConnection[] = [];
  private container: Container | null = null;
  private grpc: GrpcApiServer | null = null;
  /** TLS certificates and authorization of the client API (reloaded on SIGHUP). */
  private security: ApiSecurity | null = null;
  private stopped: Promise<void> | null = null;
  private http: OperabilityHttpServer | null = null;
  private readonly natsUp = new Map<string, boolean>();
  private serving = false;
  private serverIdValue = '';
  private raftLog: RaftMetadataLog | null = null;
  /** Created here, so closed here (after the metadata log): the log may be reopened on the same storage in tests. */
  private raftStorage: FilesystemRaftStorage | null = null;
  private raftTransport: NatsRaftTransport | null = null;
  private clusterChannel: NatsClusterChannel | null = null;
  private seedDetector: NatsSeedConflictDetector | null = null;
  /** Another server announcing itself as a bootstrap seed in our namespace (docs/cluster.md), if any. */
  private seedConflict: string | null = null;
  private replication: NatsReplicationTransport | null = null;
  private raftContacts: ContactTrackingRaftTransport | null = null;
  /** Aborted by stop(): ends a start that is still waiting for NATS. */
  private readonly startAbort = new AbortController();
  /** Why the last attempt to reach NATS at start-up failed; null once reached (readiness reason). */
  private natsUnreachable: string | null = null;
  /** Open Subscribe and PublishAsync calls, which the stop ends itself. */
  private readonly calls = new StreamingCalls();
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
    return this.grpc?.port ?? 0;
  }

  /** The bound port of the operability HTTP server (0 when it is off). */
  get httpPort(): number {
    return this.http?.port ?? 0;
  }

  /**
   * Partitions with damaged records on this server (GET /partitions/damaged; docs/operability.md).
   * Kept out of `readiness`: damage on one partition does not stop this server serving the others.
   */
  damagedPartitions(): DamagedPartitionReport[] {
    return this.container === null ? [] : this.container.get(PartitionSupervisor).damagedPartitions();
  }

  /** /readyz: NATS reached and connected, metadata loaded, gRPC serving, storage writable, no other seed (readiness.ts). */
  readiness(): Readiness {
    return readinessOf({
      natsUp: this.natsUp.size > 0 && [...this.natsUp.values()].every(Boolean),
      natsUnreachable: this.natsUnreachable,
      metadataLoaded: this.container !== null && this.container.get(MetadataService).state.brokers.has(this.serverIdValue),
      serving: this.serving && this.stopped === null,
      partitionStorageFailures: this.container?.get(PartitionSupervisor).storageFailures() ?? [],
      metadataStorageFailure: this.raftLog?.storageFailure ?? null,
      partitionsNotStarted: this.container?.get(PartitionSupervisor).partitionsNotStarted() ?? [],
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
    this.security = await ApiSecurity.open(config, this.logger);
    await fs.mkdir(config.dataDir, { recursive: true });
    this.lock = await DataDirLock.acquire(config.dataDir);
    this.serverIdValue = await resolveServerId(config.dataDir, config.clustering.serverId);
    this.logger.info(
      { serverId: this.serverIdValue, namespace: config.clustering.namespace, dataDir: config.dataDir, descriptorLimit: checked.descriptorLimit, partitionLogOpenFilesMax: checked.openFilesMax },
      'starting liftbridge-ts',
    );
    const metrics = config.metrics.enabled ? new PrometheusMetrics() : new NoMetrics();
    // Before NATS: /healthz answers and /readyz says why not ready while start-up waits for NATS.
    this.http = await startOperabilityHttp(config.http, metrics, { checks: () => this.readiness() }, () => this.damagedPartitions(), this.logger);
    const openNats = await this.natsOpener(metrics);
    const streams = await openNats('streams');
    const publishes = await openNats('publishes');
    const sizeProblem = replicationMaxBytesProblem(config.clustering.replicationMaxBytes, [streams.info?.max_payload, publishes.info?.max_payload]);
    if (sizeProblem !== null) throw new Error(sizeProblem);
    const internal = new InternalTraffic(checked.secret, config.clustering.namespace, metrics, this.logger);
    const cluster = await this.openCluster(internal, openNats, metrics);
    const container = createContainer(toServerSettings(config, this.serverIdValue, config.advertise.port), this.logger, [
      systemModule,
      filesystemModule(config.dataDir, this.logger, this.extensions.partitionLogStore, (error) => metrics.storageIoError('partition-log', error.code), checked.openFilesMax),
      natsModule({ streams, publishes }, config.clustering.namespace, this.logger),
      clusterModule(cluster.raftLog, cluster.channel, cluster.replication, this.raftContacts!),
    ], metrics, new AesValueEncryption(config.streams.encryptionKey));
    this.container = container;
    await this.startServices(container, cluster.raftLog, cluster.plan, metrics);
  }

  /** Starts the embedded nats-server if asked; returns how to open a named connection to NATS. */
  private async natsOpener(metrics: Metrics): Promise<(name: string) => Promise<NatsConnection>> {
    const config = this.config;
    let servers = config.nats.servers;
    if (config.nats.embedded) {
      this.embedded = new EmbeddedNatsServer(
        {
          ...(config.nats.embeddedBinary ? { binary: config.nats.embeddedBinary } : {}),
          ...(config.nats.embeddedConfig ? { configFile: config.nats.embeddedConfig } : {}),
          host: '127.0.0.1',
          port: config.nats.embeddedPort,
          readyTimeoutMs: 10_000,
          logOutput: config.logging.nats,
        },
        this.logger.child({ component: 'embedded-nats' }),
      );
      await this.embedded.start();
      if (servers.length === 0) servers = [this.embedded.url];
    }
    this.logger.info({ servers }, 'NATS servers');
    const natsSettings = {
      servers,
      namespace: config.clustering.namespace,
      serverId: this.serverIdValue,
      pingIntervalMs: config.nats.pingIntervalMs,
      pingMaxOutstanding: config.nats.pingMaxOutstanding,
      ...natsSecuritySettings(config.nats),
    };
    const onConnected = (name: string) => (connected: boolean) => {
      this.natsUp.set(name, connected);
      metrics.natsConnection(name, connected);
    };
    const retry = {
      timeoutMs: config.nats.connectTimeoutMs,
      signal: this.startAbort.signal,
      onUnreachable: (reason: string | null) => (this.natsUnreachable = reason),
    };
    return async (name: string): Promise<NatsConnection> => {
      const nc = await openNatsConnection(natsSettings, name, this.logger, onConnected(name), { ...retry, checkClientCertificate: this.connections.length === 0 }).catch((e: unknown) => {
        throw namingNatsSettings(e, config.nats);
      });
      // Stopped while this connection was being opened: stop() may already have closed the others.
      if (this.startAbort.signal.aborted) {
        await nc.close();
        throw new NatsUnavailableError(`stopped while connecting to NATS (${name})`);
      }
      this.connections.push(nc);
      return nc;
    };
  }

  /** The metadata Raft group, the cluster channel and partition replication, each on its NATS connection. */
  private async openCluster(
    internal: InternalTraffic,
    openNats: (name: string) => Promise<NatsConnection>,
    metrics: Metrics,
  ): Promise<{ raftLog: RaftMetadataLog; plan: RaftBootstrapPlan; channel: NatsClusterChannel; replication: NatsReplicationTransport }> {
    const config = this.config;
    const raftInternal = internal.connection(await openNats('raft'), 'raft');
    if (config.clustering.raftBootstrapSeed) {
      const onChange = (other: string | null): void => {
        this.seedConflict = other;
        metrics.seedConflict(other !== null);
      };
      const logger = this.logger.child({ component: 'bootstrap' });
      this.seedDetector = new NatsSeedConflictDetector(raftInternal, config.clustering.namespace, this.serverIdValue, logger, internal.drops('bootstrap'), onChange);
      await this.seedDetector.start();
    }
    const raftDir = path.join(config.dataDir, 'raft');
    const plan = await planRaftBootstrap(raftDir, this.serverIdValue, { seed: config.clustering.raftBootstrapSeed, peers: config.clustering.raftBootstrapPeers });
    this.logger.info({ mode: plan.mode, voters: plan.voters }, 'metadata raft group');
    const raftLog = await this.openRaftLog(raftDir, plan, raftInternal, internal.drops('raft'), metrics);
    const channel = new NatsClusterChannel(raftInternal, config.clustering.namespace, this.logger.child({ component: 'cluster' }), internal.drops('cluster'));
    this.clusterChannel = channel;
    const replication = new NatsReplicationTransport(
      internal.connection(await openNats('replication'), 'replication'),
      config.clustering.namespace,
      this.serverIdValue,
      this.logger.child({ component: 'replication' }),
      internal.drops('replication'),
      () => metrics.replicationPublishFailed(),
    );
    this.replication = replication;
    return { raftLog, plan, channel, replication };
  }

  /** The gRPC API over the use cases of `container`. */
  private grpcServer(container: Container): GrpcApiServer {
    const config = this.config;
    return new GrpcApiServer(
      {
        host: config.listen.host,
        port: config.listen.port,
        maxReceiveMessageBytes: config.clustering.replicationMaxBytes + 64 * 1024,
        certificates: this.security!.certificates,
      },
      createApiHandlers({
        admin: container.get(StreamAdminHandler),
        metadata: container.get(FetchMetadataQuery),
        publisher: container.get(PublishHandler),
        subscriber: container.get(SubscribeHandler),
        transport: container.get(TOKENS.MessageTransport),
        scheduler: container.get(TOKENS.Scheduler),
        logger: this.logger.child({ component: 'grpc' }),
        calls: this.calls,
        authorizer: this.security!.authorizer,
      }),
      this.logger,
    );
  }

  /** Metadata replayed, the controller role, joining the group, registering, the partitions, then gRPC serving. */
  private async startServices(container: Container, raftLog: RaftMetadataLog, plan: RaftBootstrapPlan, metrics: Metrics): Promise<void> {
    const config = this.config;
    const grpc = this.grpcServer(container);
    const metadata = container.get(MetadataService);
    const supervisor = container.get(PartitionSupervisor);
    supervisor.watch();
    metrics.watchStorageFailures(() => ({ partitionLogs: supervisor.storageFailures().length, metadataLog: raftLog.storageFailure === null ? 0 : 1 }));
    raftLog.setSnapshotSource(() => metadata.state);
    if (config.logging.recovery) logReplayedMetadata(metadata.applied$, this.logger.child({ component: 'recovery' }));
    await metadata.start();
    container.get(ControllerRole).start();
    // A group of one elects itself at once instead of after an election timeout.
    const group = raftLog.voters();
    if (group.length === 1 && group[0] === this.serverIdValue) raftLog.driver.campaign();
    if (plan.mode === 'join') await container.get(ClusterMembership).join();
    this.grpc = grpc;
    const register = async (advertisePort: number): Promise<void> => {
      // Heartbeats first: the controller must not judge us silent right after we registered.
      container.get(BrokerLiveness).start();
      const registered = await container.get(MetadataGateway).execute(
        { type: 'RegisterBroker', data: { id: this.serverIdValue, host: config.advertise.host, port: advertisePort } },
        REGISTER_TIMEOUT_MS,
      );
      if (!registered.ok) throw new Error(`could not register this broker: ${registered.error.kind}`);
      await supervisor.startRecovered();
    };
    // The advertised port must be registered; with port 0 it is known only once bound, so bind
    // first in that case. Otherwise everything is ready before the first call can arrive.
    let boundPort: number;
    if (config.advertise.port === 0 || config.listen.port === 0) {
      boundPort = await grpc.start();
      await register(config.advertise.port === 0 ? boundPort : config.advertise.port);
    } else {
      await register(config.advertise.port);
      boundPort = await grpc.start();
    }
    grpc.markServing();
    this.serving = true;
    const advertisePort = config.advertise.port === 0 ? boundPort : config.advertise.port;
    this.logger.info({ listen: `${config.listen.host}:${boundPort}`, advertise: `${config.advertise.host}:${advertisePort}` }, 'liftbridge-ts started');
  }

  /**
   * SIGHUP: the client API's certificates and authorization policy are read again; what cannot be
   * used is logged and the one in force kept (docs/security.md "Reloading").
   */
  async reloadSecurity(): Promise<void> {
    if (this.security === null) this.logger.info({}, 'SIGHUP: nothing to reload yet (not started)');
    else await this.security.reload();
  }

  /** The metadata Raft group's log (null before start); tests inspect its status. */
  get metadataLog(): RaftMetadataLog | null {
    return this.raftLog;
  }

  private async openRaftLog(raftDir: string, plan: RaftBootstrapPlan, connection: InternalNatsConnection, drops: DroppedMessageLog, metrics: Metrics): Promise<RaftMetadataLog> {
    const logger = raftLogger(this.logger.child({ component: 'raft' }), this.config.logging.raft);
    const transport = new NatsRaftTransport(connection, this.config.clustering.namespace, this.serverIdValue, logger, drops);
    this.raftTransport = transport;
    await transport.ready();
    const tracked = new ContactTrackingRaftTransport(transport, new SystemClock(), ACK_LEASE_MS);
    this.raftContacts = tracked;
    // Logged, so that a run's election timing can be replayed with clustering.raft.seed.
    const seed = this.config.clustering.raftSeed ?? Math.floor(Math.random() * 2 ** 31);
    this.logger.info({ seed }, 'raft timers seeded');
    const settings = metadataRaftSettings(this.serverIdValue, plan.voters, {
      snapshotThreshold: this.config.clustering.raftSnapshotThreshold,
      prng: seededPrng(seed),
    });
    this.raftStorage = new FilesystemRaftStorage({ dir: raftDir, logger });
    this.raftLog = new RaftMetadataLog(
      {
        config: settings.config,
        storage: this.raftStorage,
        transport: tracked,
        scheduler: new TimerScheduler(),
        logger,
        onStorageIoError: (error) => metrics.storageIoError('metadata-log', error.code),
      },
      settings.options,
    );
    return this.raftLog;
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
    const step = async (name: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (error) {
        this.logger.error({ err: error, step: name }, 'error while stopping');
      }
    };
    // New calls are refused (health NOT_SERVING); open ones go on while leadership moves, so a
    // publisher connected here keeps getting its acks through this server during the hand-over.
    const started = this.serving;
    this.serving = false;
    this.seedDetector?.stop();
    this.calls.beginDrain();
    if (this.grpc) void this.grpc.beginShutdown();
    if (this.container && started) {
      const container = this.container;
      await step('controlled-shutdown', () => this.handOver(container));
    }
    // Streaming calls end now (UNAVAILABLE: subscribers resubscribe to the new leaders, publishers
    // reconnect); unary calls in flight (a publish waiting for its ack) get a moment to finish
    // before the partitions close; the rest of the grace period applies after that.
    this.calls.endAll();
    const grpcStopped = this.grpc ? this.grpc.stop(SHUTDOWN_GRACE_MS) : Promise.resolve();
    await Promise.race([grpcStopped, new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_GRACE_MS).unref())]);
    if (this.container) {
      const container = this.container;
      container.get(BrokerLiveness).stop();
      await step('controller', () => container.get(ControllerRole).stop());
      await step('partitions', () => container.get(PartitionSupervisor).stop());
      await step('grpc', () => grpcStopped);
      await step('metadata', () => container.get(MetadataService).stop());
      await step('metadata-log', () => container.get(TOKENS.MetadataLog).close());
    } else if (this.raftLog) {
      const log = this.raftLog;
      await step('metadata-log', () => log.close());
    }
    if (this.raftStorage) await step('raft-storage', () => this.raftStorage!.close());
    if (this.clusterChannel) await step('cluster-channel', () => this.clusterChannel!.close());
    if (this.replication) await step('replication', () => this.replication!.close());
    if (this.raftTransport) await step('raft-transport', () => this.raftTransport!.close());
    for (const nc of this.connections) await step('nats', () => nc.drain().catch(() => nc.close()));
    this.connections = [];
    if (this.embedded) await step('embedded-nats', () => this.embedded!.stop());
    this.security?.close();
    if (this.http) await step('http', () => this.http!.stop());
    if (this.lock) await step('lock', () => this.lock!.release());
    this.logger.info({ stopMs: Math.round(performance.now() - stopStartedMs) }, 'liftbridge-ts stopped');
  }

  /** Controlled shutdown: partition leadership and the controller role move to peers first. */
  private async handOver(container: Container): Promise<void> {
    const report = await container.get(ControlledShutdown).run(CONTROLLED_SHUTDOWN_TIMEOUT_MS, this.plainStop.signal);
    if (report.skipped !== null) {
      this.logger.info({ reason: report.skipped }, 'controlled shutdown skipped');
      return;
    }
    const level = report.kept.length > 0 || report.controller === 'kept' || report.interrupted ? 'warn' : 'info';
    this.logger[level](
      {
        handedOver: report.handedOver.length,
        kept: report.kept,
        isrsLeft: report.isrsLeft,
        controller: report.controller,
        newController: report.newController,
        interrupted: report.interrupted,
        elapsedMs: report.elapsedMs,
        stepsMs: report.stepsMs,
      },
      'controlled shutdown: leadership handed over',
    );
  }
}
