import { Container, ContainerModule } from 'inversify';
import { BehaviorSubject, Observable, Subject } from 'rxjs';
import { BrokerLiveness } from '../../../../src/application/cluster/broker-liveness';
import { ClusterMembership } from '../../../../src/application/cluster/cluster-membership';
import { ControllerRole } from '../../../../src/application/cluster/controller-role';
import { MetadataGateway } from '../../../../src/application/cluster/metadata-gateway';
import { MetadataRaftGroup } from '../../../../src/application/ports/metadata-raft-group.port';
import { MetadataService } from '../../../../src/application/metadata/metadata-service';
import { ClusterChannel } from '../../../../src/application/ports/cluster-channel.port';
import { MetadataLog, MetadataLogEntry } from '../../../../src/application/ports/metadata-log.port';
import { ServerSettings } from '../../../../src/application/server-settings';
import { TOKENS } from '../../../../src/application/tokens';
import { InMemoryClusterHub } from '../../../../src/adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryReplicationHub } from '../../../../src/adapters/outbound/memory/in-memory-replication-transport';
import { ALWAYS_HELD } from '../../../../src/application/ports/ack-lease.port';
import { InMemoryMessageTransport } from '../../../../src/adapters/outbound/memory/in-memory-message-transport';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import { InMemoryPartitionLogStore } from '../../../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { createContainer } from '../../../../src/infrastructure/di/create-container';
import { ServerDuties, ServerLifecycle } from '../../../../src/infrastructure/lifecycle/boot-sequence';
import { MetadataProposal } from '../../../../src/domain/metadata/metadata-proposal';
import type { TransferLeadershipError } from '../../../../src/domain/consensus/raft';
import type { Result } from '../../../../src/domain/shared/result';
import { memorySettings, silentLogger } from '../../../support/memory-broker';
import { VirtualTime } from '../../../support/virtual-time';

/** The Raft group as the cluster services see it, steered by the test. `addVoter` is idempotent, like the real one. */
export class FakeRaftGroup implements MetadataRaftGroup {
  private readonly leading: BehaviorSubject<boolean>;
  readonly leadership$: Observable<boolean>;
  leader: string | null;
  readonly voterIds: string[];
  readonly addVoterCalls: string[] = [];
  addVoterFailure: Error | null = null;

  constructor(options: { isLeader: boolean; leader?: string | null; voters?: readonly string[] }) {
    this.leading = new BehaviorSubject(options.isLeader);
    this.leadership$ = this.leading.asObservable();
    this.leader = options.leader ?? null;
    this.voterIds = [...(options.voters ?? [])];
  }

  get isLeader(): boolean {
    return this.leading.value;
  }

  /** Winning or losing leadership, as the Raft core's soft state tells it. */
  set isLeader(leading: boolean) {
    if (leading !== this.leading.value) this.leading.next(leading);
  }

  leaderId(): string | null {
    return this.leader;
  }

  voters(): readonly string[] {
    return [...this.voterIds];
  }

  async addVoter(serverId: string): Promise<void> {
    this.addVoterCalls.push(serverId);
    if (this.addVoterFailure) throw this.addVoterFailure;
    if (!this.voterIds.includes(serverId)) this.voterIds.push(serverId);
  }

  /** Elections this server started (a group of one campaigns at once at start). */
  campaigns = 0;

  campaign(): void {
    this.campaigns++;
  }

  readonly transferCalls: (string | null)[] = [];
  /** What a transfer does: hand over to this voter at once (default), or nothing (a lost TimeoutNow). */
  transferOutcome: 'hand-over' | 'nothing' = 'hand-over';

  async transferLeadership(to: string | null): Promise<Result<string, TransferLeadershipError>> {
    this.transferCalls.push(to);
    if (!this.isLeader) return { ok: false, error: { kind: 'NotLeader', leaderId: this.leader } };
    const target = to ?? this.voterIds.find((v) => v !== this.leader) ?? null;
    if (target === null) return { ok: false, error: { kind: 'NoTransferTarget' } };
    if (this.transferOutcome === 'hand-over') {
      this.isLeader = false;
      this.leader = target;
    }
    return { ok: true, value: target };
  }
}

/**
 * A follower's metadata log: never the leader, never proposes; it commits what the leader's log
 * commits, but only when the test calls `deliver()` (or at once with `autoDeliver`), so a test can
 * hold a follower behind the controller.
 */
export class FollowerMetadataLog implements MetadataLog {
  readonly isLeader = false;
  private readonly committed = new Subject<MetadataLogEntry>();
  readonly committed$ = this.committed.asObservable();
  private readonly held: MetadataLogEntry[] = [];

  constructor(leaderLog: InMemoryMetadataLog, private readonly autoDeliver: boolean) {
    leaderLog.committed$.subscribe((entry) => {
      this.held.push(entry);
      if (this.autoDeliver) this.deliver();
    });
  }

  /** Entries committed by the leader that this follower has not applied yet. */
  get heldEntries(): number {
    return this.held.length;
  }

  deliver(): void {
    for (const entry of this.held.splice(0)) this.committed.next({ ...entry, recovered: false });
  }

  async start(): Promise<void> {}

  async propose(_proposal: MetadataProposal): Promise<void> {
    throw new Error('a follower log cannot propose');
  }

  async close(): Promise<void> {
    this.committed.complete();
  }
}

export interface TestServer {
  readonly container: Container;
  readonly metadata: MetadataService;
  readonly gateway: MetadataGateway;
  readonly role: ControllerRole;
  readonly liveness: BrokerLiveness;
  readonly membership: ClusterMembership;
  readonly channel: ClusterChannel;
  readonly lifecycle: ServerLifecycle;
}

/** One server's application layer, wired by the real composition root with in-memory adapters and virtual time, its metadata started by the boot sequence. */
export async function startServer(options: {
  readonly hub: InMemoryClusterHub;
  readonly time: VirtualTime;
  readonly log: MetadataLog;
  readonly group: MetadataRaftGroup;
  readonly settings?: Partial<ServerSettings>;
  /** Wraps the server's channel (to lose some of its traffic, say). */
  readonly wrapChannel?: (channel: ClusterChannel) => ClusterChannel;
  /** By default the metadata alone: the tests start the controller role, heartbeats and joins themselves, and run no partitions. */
  readonly duties?: ServerDuties;
}): Promise<TestServer> {
  const connected = options.hub.connect();
  const channel = options.wrapChannel ? options.wrapChannel(connected) : connected;
  const adapters = new ContainerModule(({ bind }) => {
    bind(TOKENS.Clock).toConstantValue(options.time);
    bind(TOKENS.Scheduler).toConstantValue(options.time);
    bind(TOKENS.MetadataLog).toConstantValue(options.log);
    bind(TOKENS.PartitionLogStore).toConstantValue(new InMemoryPartitionLogStore());
    bind(TOKENS.MessageTransport).toConstantValue(new InMemoryMessageTransport());
    bind(TOKENS.ClusterChannel).toConstantValue(channel);
    bind(TOKENS.MetadataRaftGroup).toConstantValue(options.group);
    bind(TOKENS.ReplicationTransport).toConstantValue(new InMemoryReplicationHub().connect(options.settings?.serverId ?? 'a'));
    bind(TOKENS.AckLease).toConstantValue(ALWAYS_HELD);
  });
  const container = createContainer({
    settings: memorySettings(options.settings),
    logger: silentLogger,
    adapters: [adapters],
    duties: options.duties ?? { partitions: false, raftGroup: 'none' },
  });
  const lifecycle = container.get(ServerLifecycle);
  await lifecycle.start();
  return {
    container,
    metadata: container.get(MetadataService),
    gateway: container.get(MetadataGateway),
    role: container.get(ControllerRole),
    liveness: container.get(BrokerLiveness),
    membership: container.get(ClusterMembership),
    channel,
    lifecycle,
  };
}

/**
 * Two servers on one hub: "a" leads the metadata log (InMemoryMetadataLog) and "b" follows it.
 * Both brokers are registered. The controller role of "a" is not started: the test decides.
 */
export async function twoServers(options: { readonly autoDeliver?: boolean; readonly settings?: Partial<ServerSettings> } = {}): Promise<{
  hub: InMemoryClusterHub;
  time: VirtualTime;
  leaderLog: InMemoryMetadataLog;
  followerLog: FollowerMetadataLog;
  leaderGroup: FakeRaftGroup;
  followerGroup: FakeRaftGroup;
  a: TestServer;
  b: TestServer;
}> {
  const hub = new InMemoryClusterHub();
  const time = new VirtualTime();
  const leaderLog = new InMemoryMetadataLog();
  const followerLog = new FollowerMetadataLog(leaderLog, options.autoDeliver ?? true);
  const leaderGroup = new FakeRaftGroup({ isLeader: true, leader: 'a', voters: ['a', 'b'] });
  const followerGroup = new FakeRaftGroup({ isLeader: false, leader: 'a', voters: ['a', 'b'] });
  const a = await startServer({ hub, time, log: leaderLog, group: leaderGroup, settings: { serverId: 'a', ...options.settings } });
  const b = await startServer({ hub, time, log: followerLog, group: followerGroup, settings: { serverId: 'b', ...options.settings } });
  for (const id of ['a', 'b']) {
    const registered = await a.metadata.execute({ type: 'RegisterBroker', data: { id, host: `${id}.local`, port: 9292 } });
    if (!registered.ok) throw new Error(`could not register ${id}`);
  }
  followerLog.deliver();
  return { hub, time, leaderLog, followerLog, leaderGroup, followerGroup, a, b };
}

/** A channel whose heartbeats are lost: everything else passes through. */
export const losingAnnouncements = (channel: ClusterChannel): ClusterChannel => ({
  forward: (command, timeoutMs) => channel.forward(command, timeoutMs),
  serveCommands: (handler) => channel.serveCommands(handler),
  requestJoin: (serverId, timeoutMs) => channel.requestJoin(serverId, timeoutMs),
  serveJoins: (handler) => channel.serveJoins(handler),
  announce: () => undefined,
  heartbeats$: channel.heartbeats$,
  close: () => channel.close(),
});
