import { ActivityDispatcher } from '../../application/activity/activity-dispatcher';
import { BrokerLiveness } from '../../application/cluster/broker-liveness';
import { ClusterMembership } from '../../application/cluster/cluster-membership';
import { ControlledShutdown, ControlledShutdownReport } from '../../application/cluster/controlled-shutdown';
import { ControllerRole } from '../../application/cluster/controller-role';
import { MetadataGateway } from '../../application/cluster/metadata-gateway';
import { MetadataService } from '../../application/metadata/metadata-service';
import { GroupLivenessTimers } from '../../application/groups/group-liveness-timers';
import { PartitionSupervisor } from '../../application/partitions/partition-supervisor';
import { Logger } from '../../application/ports/logger.port';
import { MetadataLog } from '../../application/ports/metadata-log.port';
import { MetadataRaftGroup } from '../../application/ports/metadata-raft-group.port';
import { ServerSettings } from '../../application/server-settings';

/** How long start-up waits to register with a controller (a peer-bootstrapped group waits for its quorum). */
export const REGISTER_TIMEOUT_MS = 60_000;

/**
 * Which start steps apply to a server, bound with its container. A server in production has them
 * all; a single in-memory server has no Raft group; a test that drives the cluster services itself
 * starts the metadata alone.
 */
export interface ServerDuties {
  /** Partition roles follow the applied metadata, and those replayed start once registered. */
  readonly partitions: boolean;
  /**
   * The controller role and the Raft group's start duties: `member` campaigns at once when it is
   * the only voter; `join` (no Raft state, no bootstrap flags) asks the controller for a vote.
   */
  readonly raftGroup: 'none' | 'member' | 'join';
}

/** The cluster services a server with a Raft group runs. */
export interface ClusterDuties {
  readonly group: MetadataRaftGroup;
  readonly role: ControllerRole;
  readonly membership: ClusterMembership;
  readonly liveness: BrokerLiveness;
  readonly shutdown: ControlledShutdown;
  /** The activity stream (a controller duty; it follows applied entries on every server). */
  readonly activity: ActivityDispatcher;
  readonly joins: boolean;
}

/** The services the sequence starts and stops; null where a duty does not apply. */
export interface ServerServices {
  readonly settings: ServerSettings;
  readonly metadata: MetadataService;
  readonly metadataLog: MetadataLog;
  readonly gateway: MetadataGateway;
  /** The liveness timers of the consumer groups this server coordinates (docs/consumers.md "Liveness"). */
  readonly groupTimers: GroupLivenessTimers;
  readonly partitions: PartitionSupervisor | null;
  readonly cluster: ClusterDuties | null;
}

export interface StopFailure {
  readonly step: string;
  readonly error: unknown;
}

/**
 * The one boot and stop order of a server's services (docs/architecture.md "Composition"), used by
 * the broker, the in-memory test broker and the cluster fixtures alike. A step whose service is
 * absent is skipped, so each caller gets the order by what its container binds, not by copying it.
 */
export class ServerLifecycle {
  constructor(
    private readonly services: ServerServices,
    private readonly logger: Logger,
  ) {}

  /** Metadata replayed, then the controller role and the Raft group's start duties. */
  async start(): Promise<void> {
    const { metadata, partitions, cluster, settings, groupTimers } = this.services;
    partitions?.watch(); // before the replay, so recovery can record deletions
    cluster?.activity.watch(); // before the replay too: replayed entries not yet published are published
    groupTimers.watch();
    await metadata.start();
    groupTimers.startRecovered(); // replayed members get a full timeout from now
    if (cluster === null) return;
    cluster.role.start();
    // A group of one elects itself at once instead of after an election timeout.
    const voters = cluster.group.voters();
    if (voters.length === 1 && voters[0] === settings.serverId) cluster.group.campaign();
    if (cluster.joins) await cluster.membership.join();
  }

  /** Registers this broker at `advertisePort` through the gateway, then starts the partitions the replay left to run. */
  async register(advertisePort: number, timeoutMs = REGISTER_TIMEOUT_MS): Promise<void> {
    const { gateway, partitions, cluster, settings } = this.services;
    // Heartbeats first: the controller must not judge us silent right after we registered.
    cluster?.liveness.start();
    const registered = await gateway.execute({ type: 'RegisterBroker', data: { id: settings.serverId, host: settings.advertiseHost, port: advertisePort } }, timeoutMs);
    if (!registered.ok) throw new Error(`could not register this broker: ${registered.error.kind}`);
    await partitions?.startRecovered();
  }

  /** True once this broker is in the metadata it applied (readiness). */
  get registered(): boolean {
    return this.services.metadata.state.brokers.has(this.services.settings.serverId);
  }

  /**
   * Controlled shutdown: partition leadership and the controller role move to peers first, within
   * `budgetMs` or until `interrupt`. Null without a Raft group (nobody to hand over to).
   */
  async handOver(budgetMs: number, interrupt: AbortSignal): Promise<ControlledShutdownReport | null> {
    return (await this.services.cluster?.shutdown.run(budgetMs, interrupt)) ?? null;
  }

  /**
   * The reverse of the start. `apiStopped` settles once the client API stopped (its calls in flight
   * are over): the metadata keeps serving them until then. A failed step is logged and the stop goes on; the
   * failures are returned.
   */
  async stop(apiStopped: Promise<unknown> = Promise.resolve()): Promise<readonly StopFailure[]> {
    const { metadata, metadataLog, partitions, cluster, groupTimers } = this.services;
    const failures: StopFailure[] = [];
    const step = async (name: string, run: () => Promise<unknown>): Promise<void> => {
      try {
        await run();
      } catch (error) {
        this.logger.error({ err: error, step: name }, 'error while stopping');
        failures.push({ step: name, error });
      }
    };
    cluster?.liveness.stop();
    groupTimers.stop();
    if (cluster) await step('controller', () => cluster.role.stop());
    cluster?.activity.stop();
    if (partitions) await step('partitions', () => partitions.stop());
    await step('grpc', () => apiStopped);
    await step('metadata', () => metadata.stop());
    await step('metadata-log', () => metadataLog.close());
    return failures;
  }
}
