import { MetadataService } from '../../../src/application/metadata/metadata-service';
import { RaftDriver, RaftProposalQueueFullError } from '../../../src/application/metadata/raft-driver';
import { RaftMetadataLog, RaftMetadataLogOptions } from '../../../src/application/metadata/raft-metadata-log';
import { MetadataProposalTimeoutError, NotMetadataLeaderError } from '../../../src/application/ports/metadata-log.port';
import { MetadataLogEntry } from '../../../src/application/ports/metadata-log.port';
import { InMemoryRaftStorage } from '../../../src/adapters/outbound/memory/in-memory-raft-storage';
import { InMemoryRaftHub, InMemoryRaftTransport } from '../../../src/adapters/outbound/memory/in-memory-raft-transport';
import type { Entry, RaftConfig } from '../../../src/domain/consensus/raft';
import { MetadataProposal } from '../../../src/domain/metadata/metadata-proposal';
import { createStream } from '../../support/metadata-mothers';
import { memorySettings, silentLogger } from '../../support/memory-broker';
import { testRaftConfig } from '../../support/raft-configs';
import { VirtualTime } from '../../support/virtual-time';
import { settleVirtual, waitForVirtual } from '../../support/wait-for';

const IDS = ['a', 'b', 'c'];
/** Virtual time a wait may take: elections take tens of milliseconds at 5 ms ticks. */
const DEADLINE_MS = 5000;

const raftConfig = (id: string, seed: number): RaftConfig => testRaftConfig(id, IDS, seed);

const options: RaftMetadataLogOptions = { tickMs: 5, messagesQueuedMax: 4096, proposalsQueuedMax: 64, proposeTimeoutMs: 4000, snapshotThreshold: 0 };

const proposal = (id: string): MetadataProposal => ({ proposalId: id, events: [], expectations: [] });

interface Member {
  readonly id: string;
  readonly storage: InMemoryRaftStorage;
  transport: InMemoryRaftTransport;
  log: RaftMetadataLog;
  seen: MetadataLogEntry[];
}

/** Three nodes on one in-memory hub and one virtual clock: every run goes the same way. */
class Cluster {
  readonly hub = new InMemoryRaftHub();
  readonly time = new VirtualTime();
  readonly members: Member[];

  constructor(private readonly logOptions: RaftMetadataLogOptions = options) {
    this.members = IDS.map((id, i) => {
      const storage = new InMemoryRaftStorage();
      const transport = this.hub.connect(id);
      const member: Member = { id, storage, transport, log: this.newLog(id, i, storage, transport), seen: [] };
      member.log.committed$.subscribe((entry) => member.seen.push(entry));
      return member;
    });
  }

  private newLog(id: string, i: number, storage: InMemoryRaftStorage, transport: InMemoryRaftTransport): RaftMetadataLog {
    return new RaftMetadataLog({ config: raftConfig(id, 1000 + i * 7919), storage, transport, scheduler: this.time, logger: silentLogger }, this.logOptions);
  }

  member(id: string): Member {
    const found = this.members.find((m) => m.id === id);
    if (!found) throw new Error(`no member ${id}`);
    return found;
  }

  /** Lets virtual time run until `probe` finds something. */
  eventually<T>(what: string, probe: () => T | undefined | null | false): Promise<T> {
    return waitForVirtual(this.time, probe, DEADLINE_MS, what);
  }

  async startAll(): Promise<void> {
    await Promise.all(this.members.map((m) => m.log.start()));
  }

  /** A single leader that every running member agrees on. */
  async leader(): Promise<Member> {
    return this.eventually('a leader', () => {
      const leaders = this.members.filter((m) => m.log.isLeader);
      if (leaders.length !== 1) return undefined;
      const leader = leaders[0];
      const term = leader.log.status()?.term;
      return this.members.every((m) => m.log.status()?.leaderId === leader.id && m.log.status()?.term === term) ? leader : undefined;
    });
  }

  async restart(id: string, seed: number): Promise<Member> {
    const member = this.member(id);
    await member.log.close();
    await member.transport.close();
    member.transport = this.hub.connect(id);
    member.log = this.newLog(id, seed, member.storage, member.transport);
    member.seen = [];
    member.log.committed$.subscribe((entry) => member.seen.push(entry));
    await member.log.start();
    return member;
  }

  async close(): Promise<void> {
    for (const m of this.members) {
      await m.log.close();
      await m.transport.close();
    }
  }
}

const ids = (entries: readonly MetadataLogEntry[]): string[] => entries.map((e) => (e.kind === 'proposal' ? e.proposal.proposalId : `snapshot@${e.index}`));

describe('RaftMetadataLog over three in-memory nodes', () => {
  let cluster: Cluster;

  beforeEach(async () => {
    cluster = new Cluster();
  });

  afterEach(async () => {
    await cluster.close();
  });

  it('elects one leader and commits its proposals on every node in the same order, with increasing indexes', async () => {
    await cluster.startAll();
    const leader = await cluster.leader();
    await leader.log.propose(proposal('p1'));
    await leader.log.propose(proposal('p2'));
    await Promise.all([leader.log.propose(proposal('p3')), leader.log.propose(proposal('p4'))]);

    // propose resolves only after the leader emitted the entry.
    expect(ids(leader.seen)).toEqual(['p1', 'p2', 'p3', 'p4']);
    for (const m of cluster.members) {
      await cluster.eventually(`${m.id} to see 4 entries`, () => m.seen.length === 4);
      expect(ids(m.seen)).toEqual(['p1', 'p2', 'p3', 'p4']);
      expect(m.seen.map((e) => e.index)).toEqual(leader.seen.map((e) => e.index));
      expect(m.seen.every((e) => !e.recovered)).toBe(true);
      const indexes = m.seen.map((e) => e.index);
      for (let i = 1; i < indexes.length; i++) expect(indexes[i]).toBeGreaterThan(indexes[i - 1]);
    }
  });

  it('tells leadership$ of every change of isLeader as it happens: elected, and stepping down when closed', async () => {
    const seen = new Map<string, boolean[]>();
    for (const m of cluster.members) m.log.leadership$.subscribe((leading) => seen.set(m.id, [...(seen.get(m.id) ?? []), leading]));
    await cluster.startAll();
    const leader = await cluster.leader();
    for (const m of cluster.members) expect(seen.get(m.id)).toEqual(m === leader ? [false, true] : [false]);
    await leader.log.close();
    expect(seen.get(leader.id)).toEqual([false, true, false]);
    // Another member wins; its stream says so the moment its isLeader does.
    const next = await cluster.eventually('another leader', () => cluster.members.find((m) => m !== leader && m.log.isLeader));
    expect(seen.get(next.id)).toEqual([false, true]);
  });

  it('refuses a proposal on a follower as not-leader (retriable, with the leader hint)', async () => {
    await cluster.startAll();
    const leader = await cluster.leader();
    const follower = cluster.members.find((m) => m !== leader);
    if (!follower) throw new Error('no follower');
    expect(follower.log.isLeader).toBe(false);
    const refusal = follower.log.propose(proposal('nope'));
    await expect(refusal).rejects.toBeInstanceOf(NotMetadataLeaderError);
    await expect(refusal).rejects.toMatchObject({ retriable: true, leaderId: leader.id });
  });

  it('hands leadership to another voter on request; proposals meanwhile are refused as not-leader, and nothing committed is lost', async () => {
    await cluster.startAll();
    const leader = await cluster.leader();
    await leader.log.propose(proposal('before'));
    const started = await leader.log.transferLeadership(null);
    expect(started.ok).toBe(true);
    const target = started.ok ? started.value : '';
    expect(target).not.toBe(leader.id);
    const during = leader.log.propose(proposal('during'));
    await expect(during).rejects.toBeInstanceOf(NotMetadataLeaderError);
    const next = await cluster.eventually('the target to lead', () => (cluster.member(target).log.isLeader ? cluster.member(target) : undefined));
    expect(leader.log.isLeader).toBe(false);
    await next.log.propose(proposal('after'));
    for (const m of cluster.members) {
      await cluster.eventually(`${m.id} to see both entries`, () => m.seen.length === 2);
      expect(ids(m.seen)).toEqual(['before', 'after']);
    }
  });

  it('replays the committed entries as recovered when a node restarts from its storage, then follows new ones', async () => {
    await cluster.startAll();
    const leader = await cluster.leader();
    await leader.log.propose(proposal('p1'));
    await leader.log.propose(proposal('p2'));
    const follower = cluster.members.find((m) => m !== leader);
    if (!follower) throw new Error('no follower');
    await cluster.eventually('the follower to apply both', () => follower.seen.length === 2);
    const before = follower.seen.map((e) => e.index);

    const restarted = await cluster.restart(follower.id, 99);
    const persistedCommit = (await restarted.storage.load()).hardState.commit;
    const recovered = restarted.seen.filter((e) => e.recovered);
    // The commit index is persisted before committed entries are handed over, so both are recovered.
    expect(ids(recovered)).toEqual(['p1', 'p2']);
    expect(recovered.every((e) => e.index <= persistedCommit)).toBe(true);

    const current = await cluster.leader();
    await current.log.propose(proposal('p3'));
    await cluster.eventually('the restarted node to see p3', () => ids(restarted.seen).includes('p3'));
    expect(ids(restarted.seen)).toEqual(['p1', 'p2', 'p3']);
    expect(restarted.seen.slice(0, 2).map((e) => e.index)).toEqual(before);
    expect(restarted.seen[2].recovered).toBe(false);
  });

  it('feeds a MetadataService on every node: a CreateStream executed on the leader shows up everywhere', async () => {
    const services = cluster.members.map(
      (m) => new MetadataService(m.log, memorySettings({ serverId: m.id, metadataTimeoutMs: 4000 }), cluster.time, silentLogger),
    );
    await Promise.all(services.map((service) => service.start()));
    const leader = await cluster.leader();
    const leaderService = services[cluster.members.indexOf(leader)];
    const registered = await leaderService.execute({ type: 'RegisterBroker', data: { id: leader.id, host: 'localhost', port: 9292 } });
    expect(registered.ok).toBe(true);
    const created = await leaderService.execute(createStream('orders'));
    expect(created.ok).toBe(true);
    for (const service of services) {
      await cluster.eventually('every node to apply the stream', () => service.state.streams.has('orders'));
      expect(service.state.lastAppliedIndex).toBe(leaderService.state.lastAppliedIndex);
    }
    for (const service of services) await service.stop();
  });
});

describe('RaftMetadataLog without a quorum', () => {
  it('rejects a proposal that cannot commit with a retriable timeout, and refuses proposals after close', async () => {
    const cluster = new Cluster({ ...options, proposeTimeoutMs: 300 });
    try {
      await cluster.startAll();
      const leader = await cluster.leader();
      for (const m of cluster.members) if (m !== leader) cluster.hub.setReachable(m.id, false);
      const stuck = settleVirtual(cluster.time, leader.log.propose(proposal('stuck')), DEADLINE_MS, 'the proposal without a quorum');
      await expect(stuck).rejects.toBeInstanceOf(MetadataProposalTimeoutError);
      await expect(stuck).rejects.toMatchObject({ retriable: true });
      expect(ids(leader.seen)).toEqual([]);
    } finally {
      await cluster.close();
    }
    await expect(cluster.members[0].log.propose(proposal('late'))).rejects.toThrow('closed');
  });
});

describe('RaftDriver', () => {
  it('answers a full proposal queue with a typed, retriable error', async () => {
    const hub = new InMemoryRaftHub();
    const time = new VirtualTime();
    const eventually = (what: string, probe: () => boolean): Promise<void> => waitForVirtual(time, probe, DEADLINE_MS, what);
    const committed: Entry[] = [];
    const driver = new RaftDriver(
      { ...raftConfig('solo', 1), voters: ['solo'] },
      new InMemoryRaftStorage(),
      hub.connect('solo'),
      time,
      { tickMs: 5, messagesQueuedMax: 16, proposalsQueuedMax: 2 },
      { onCommitted: (entries) => committed.push(...entries) },
    );
    await driver.start();
    driver.campaign();
    await eventually('the single node to lead', () => driver.status()?.role === 'leader');
    const first = driver.propose('x1');
    const second = driver.propose('x2');
    const third = driver.propose('x3');
    await expect(third).rejects.toBeInstanceOf(RaftProposalQueueFullError);
    await expect(third).rejects.toMatchObject({ retriable: true, proposalsQueuedMax: 2 });
    const results = await Promise.all([first, second]);
    expect(results.every((r) => r.ok)).toBe(true);
    await eventually('both proposals committed', () => committed.filter((e) => e.type === 'normal').length === 2);
    expect(committed.filter((e) => e.type === 'normal').map((e) => e.data)).toEqual(['x1', 'x2']);
    await expect(driver.propose('x4')).resolves.toMatchObject({ ok: true });
    await eventually('the queue to accept again', () => committed.filter((e) => e.type === 'normal').length === 3);
    await driver.stop();
    await expect(driver.propose('late')).rejects.toMatchObject({ retriable: true });
  });
});
