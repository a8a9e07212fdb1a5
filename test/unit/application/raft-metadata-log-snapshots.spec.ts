import { MetadataService } from '../../../src/application/metadata/metadata-service';
import { RaftCompactionIndexError, RaftDriver } from '../../../src/application/metadata/raft-driver';
import { RaftMetadataLog, RaftMetadataLogOptions } from '../../../src/application/metadata/raft-metadata-log';
import { NotMetadataLeaderError } from '../../../src/application/ports/metadata-log.port';
import { Logger } from '../../../src/application/ports/logger.port';
import { MetadataLogEntry } from '../../../src/application/ports/metadata-log.port';
import { InMemoryRaftStorage } from '../../../src/adapters/outbound/memory/in-memory-raft-storage';
import { InMemoryRaftHub, InMemoryRaftTransport } from '../../../src/adapters/outbound/memory/in-memory-raft-transport';
import type { Entry } from '../../../src/domain/consensus/raft';
import { decodeMetadataSnapshot } from '../../../src/domain/metadata/metadata-snapshot';
import { createStream } from '../../support/metadata-mothers';
import { memorySettings, silentLogger } from '../../support/memory-broker';
import { testRaftConfig } from '../../support/raft-configs';
import { VirtualTime } from '../../support/virtual-time';
import { waitForVirtual } from '../../support/wait-for';

/** Virtual time a wait may take: elections take tens of milliseconds at 5 ms ticks. */
const DEADLINE_MS = 8000;

const raftConfig = testRaftConfig;

const options: RaftMetadataLogOptions = { tickMs: 5, messagesQueuedMax: 4096, proposalsQueuedMax: 64, proposeTimeoutMs: 4000, snapshotThreshold: 5 };

/** Logs kept in memory, to check what was reported. */
class CapturingLogger implements Logger {
  readonly lines: { level: string; obj: object; msg: string }[] = [];
  debug = (obj: object, msg: string): void => void this.lines.push({ level: 'debug', obj, msg });
  info = (obj: object, msg: string): void => void this.lines.push({ level: 'info', obj, msg });
  warn = (obj: object, msg: string): void => void this.lines.push({ level: 'warn', obj, msg });
  error = (obj: object, msg: string): void => void this.lines.push({ level: 'error', obj, msg });
  child = (): Logger => this;
}

/** One server: its Raft storage survives restarts; the log and the MetadataService are rebuilt. */
interface Server {
  readonly id: string;
  readonly voters: readonly string[];
  readonly storage: InMemoryRaftStorage;
  transport: InMemoryRaftTransport;
  log: RaftMetadataLog;
  service: MetadataService;
  seen: MetadataLogEntry[];
}

/** Servers on one in-memory hub and one virtual clock: every run goes the same way. */
class Group {
  readonly hub = new InMemoryRaftHub();
  readonly time = new VirtualTime();
  readonly servers: Server[] = [];
  private seed = 1;

  constructor(
    private readonly logOptions: RaftMetadataLogOptions = options,
    private readonly logger: Logger = silentLogger,
  ) {}

  /** Adds and starts a server with the given initial voters (none: it joins later). */
  async add(id: string, voters: readonly string[]): Promise<Server> {
    const storage = new InMemoryRaftStorage();
    const server = this.build(id, voters, storage);
    this.servers.push(server);
    await server.service.start();
    return server;
  }

  private build(id: string, voters: readonly string[], storage: InMemoryRaftStorage): Server {
    const transport = this.hub.connect(id);
    const log = new RaftMetadataLog({ config: raftConfig(id, voters, 1000 + this.seed++ * 7919), storage, transport, scheduler: this.time, logger: this.logger }, this.logOptions);
    const service = new MetadataService(log, memorySettings({ serverId: id, metadataTimeoutMs: 4000 }), this.time, silentLogger);
    log.setSnapshotSource(() => service.state);
    const server: Server = { id, voters, storage, transport, log, service, seen: [] };
    log.committed$.subscribe((entry) => server.seen.push(entry));
    return server;
  }

  server(id: string): Server {
    const found = this.servers.find((s) => s.id === id);
    if (!found) throw new Error(`no server ${id}`);
    return found;
  }

  /** Lets virtual time run until `probe` finds something. */
  eventually<T>(what: string, probe: () => T | undefined | null | false): Promise<T> {
    return waitForVirtual(this.time, probe, DEADLINE_MS, what);
  }

  /** The single leader every voter agrees on. */
  async leader(): Promise<Server> {
    return this.eventually('a leader', () => {
      const leaders = this.servers.filter((s) => s.log.isLeader);
      if (leaders.length !== 1) return undefined;
      const leader = leaders[0];
      const term = leader.log.status()?.term;
      const voters = this.servers.filter((s) => leader.log.voters().includes(s.id));
      return voters.every((s) => s.log.status()?.leaderId === leader.id && s.log.status()?.term === term) ? leader : undefined;
    });
  }

  async restart(id: string): Promise<Server> {
    const old = this.server(id);
    await old.log.close();
    await old.service.stop();
    await old.transport.close();
    const server = this.build(id, old.voters, old.storage);
    this.servers[this.servers.indexOf(old)] = server;
    await server.service.start();
    return server;
  }

  async close(): Promise<void> {
    for (const s of this.servers) {
      await s.log.close();
      await s.service.stop();
      await s.transport.close();
    }
  }
}

/** Registers the brokers, then creates `count` streams on the leader. */
async function createStreams(leader: Server, from: number, count: number): Promise<void> {
  for (const id of ['a', 'b', 'c']) {
    const registered = await leader.service.execute({ type: 'RegisterBroker', data: { id, host: 'localhost', port: 9292 } });
    expect(registered.ok).toBe(true);
  }
  for (let i = from; i < from + count; i++) {
    const created = await leader.service.execute(createStream(`s${i}`));
    expect(created.ok).toBe(true);
  }
}

const storedSnapshotIndex = async (server: Server): Promise<number> => (await server.storage.load()).snapshot?.index ?? 0;

describe('RaftMetadataLog snapshots and compaction (three in-memory nodes, threshold 5)', () => {
  let group: Group;

  beforeEach(async () => {
    group = new Group();
    for (const id of ['a', 'b', 'c']) await group.add(id, ['a', 'b', 'c']);
  });

  afterEach(async () => {
    await group.close();
  });

  it('compacts every node once the threshold is passed; the stored snapshot decodes to the state at its index', async () => {
    const leader = await group.leader();
    await createStreams(leader, 0, 12);
    for (const s of group.servers) {
      await group.eventually(`${s.id} to apply every stream`, () => s.service.state.streams.size === 12);
      await group.eventually(`${s.id} to compact`, () => s.log.driver.snapshotIndex > 5);
      const stored = (await s.storage.load()).snapshot;
      expect(stored?.index).toBe(s.log.driver.snapshotIndex);
      expect(stored?.voters).toEqual(['a', 'b', 'c']);
      const state = decodeMetadataSnapshot(stored?.data ?? '');
      expect(state.lastAppliedIndex).toBeLessThanOrEqual(stored?.index ?? 0);
      expect(state.streams.size).toBeGreaterThan(0);
      // Compaction never emits anything: every entry seen is a proposal.
      expect(s.seen.every((e) => e.kind === 'proposal')).toBe(true);
    }
  });

  it('brings a node that was cut off while the leader compacted up to date with InstallSnapshot', async () => {
    const leader = await group.leader();
    await createStreams(leader, 0, 2);
    const lagging = group.servers.find((s) => s !== leader);
    if (!lagging) throw new Error('no follower');
    await group.eventually('the follower to apply the first streams', () => lagging.service.state.streams.size === 2);
    const laggingIndex = lagging.log.status()?.lastIndex ?? 0;

    group.hub.setReachable(lagging.id, false);
    await createStreams(leader, 2, 14);
    await group.eventually('the leader to compact past the cut-off node', () => leader.log.driver.snapshotIndex > laggingIndex + 1);

    group.hub.setReachable(lagging.id, true);
    await group.eventually('the cut-off node to catch up', () => lagging.service.state.lastAppliedIndex === leader.service.state.lastAppliedIndex);
    expect(lagging.service.state).toEqual(leader.service.state);
    const restored = lagging.seen.filter((e) => e.kind === 'snapshot');
    expect(restored.length).toBeGreaterThanOrEqual(1);
    expect(restored.every((e) => !e.recovered)).toBe(true);
    expect(await storedSnapshotIndex(lagging)).toBeGreaterThan(laggingIndex);

    // And it keeps following.
    await createStreams(leader, 16, 1);
    await group.eventually('the caught-up node to apply a new stream', () => lagging.service.state.streams.has('s16'));
    expect(lagging.service.state).toEqual(leader.service.state);
  });

  it('rebuilds the same state when a node restarts over storage that holds a snapshot', async () => {
    const leader = await group.leader();
    await createStreams(leader, 0, 10);
    const follower = group.servers.find((s) => s !== leader);
    if (!follower) throw new Error('no follower');
    await group.eventually('the follower to apply and compact', () => follower.service.state.streams.size === 10 && follower.log.driver.snapshotIndex > 0);
    const snapshotIndex = await storedSnapshotIndex(follower);
    const before = follower.service.state;

    const restarted = await group.restart(follower.id);
    expect(restarted.seen[0]).toMatchObject({ kind: 'snapshot', index: snapshotIndex, recovered: true });
    expect(restarted.seen.slice(1).every((e) => e.kind === 'proposal' && e.index > snapshotIndex && e.recovered)).toBe(true);
    expect(restarted.service.state).toEqual(before);

    const current = await group.leader();
    await createStreams(current, 10, 1);
    await group.eventually('the restarted node to follow again', () => restarted.service.state.streams.has('s10'));
    expect(restarted.service.state).toEqual(current.service.state);
  });
});

describe('RaftMetadataLog with a snapshot too large to send', () => {
  it('logs an error and skips compaction; proposals keep working', async () => {
    const logger = new CapturingLogger();
    const group = new Group({ ...options, snapshotThreshold: 2, snapshotBytesMax: 64 }, logger);
    try {
      for (const id of ['a', 'b', 'c']) await group.add(id, ['a', 'b', 'c']);
      const leader = await group.leader();
      await createStreams(leader, 0, 6);
      for (const s of group.servers) await group.eventually(`${s.id} to apply`, () => s.service.state.streams.size === 6);
      expect(logger.lines.some((l) => l.level === 'error' && /snapshotBytesMax/.test(l.msg))).toBe(true);
      for (const s of group.servers) {
        expect(s.log.driver.snapshotIndex).toBe(0);
        expect(s.log.driver.state).toBe('running');
      }
    } finally {
      await group.close();
    }
  });
});

describe('RaftMetadataLog membership changes', () => {
  it('adds a third voter to a two-node group; it catches up (through a snapshot) and applies the same metadata; then removes it', async () => {
    const group = new Group();
    try {
      await group.add('a', ['a', 'b']);
      await group.add('b', ['a', 'b']);
      const leader = await group.leader();
      await createStreams(leader, 0, 8);
      await group.eventually('the leader to compact', () => leader.log.driver.snapshotIndex > 0);

      const c = await group.add('c', []);
      expect(c.log.voters()).toEqual([]);
      const follower = group.servers.find((s) => s !== leader && s.id !== 'c');
      if (!follower) throw new Error('no follower');
      await expect(follower.log.addVoter('c')).rejects.toBeInstanceOf(NotMetadataLeaderError);

      await leader.log.addVoter('c');
      expect(leader.log.voters()).toEqual(['a', 'b', 'c']);
      await group.eventually('c to catch up', () => c.service.state.lastAppliedIndex === leader.service.state.lastAppliedIndex && c.service.state.streams.size === 8);
      expect(c.service.state).toEqual(leader.service.state);
      expect(c.seen[0]).toMatchObject({ kind: 'snapshot', recovered: false });
      await group.eventually('c to know it is a voter', () => c.log.voters().includes('c'));
      await leader.log.addVoter('c'); // idempotent
      await createStreams(leader, 8, 1);
      await group.eventually('c to apply a new stream', () => c.service.state.streams.has('s8'));

      const current = await group.leader();
      await current.log.removeVoter('c');
      expect(current.log.voters()).toEqual(['a', 'b']);
      await current.log.removeVoter('c'); // idempotent
      await group.eventually('the other voter to apply the removal', () => group.servers.filter((s) => s.id !== 'c').every((s) => !s.log.voters().includes('c')));
      await createStreams(current, 9, 1);
      for (const s of group.servers.filter((x) => x.id !== 'c')) await group.eventually(`${s.id} to apply`, () => s.service.state.streams.has('s9'));
    } finally {
      await group.close();
    }
  });
});

describe('RaftDriver compaction and conf changes', () => {
  it('compacts at the applied index, persists the snapshot, refuses a stale index, and proposes conf changes', async () => {
    const hub = new InMemoryRaftHub();
    const storage = new InMemoryRaftStorage();
    const time = new VirtualTime();
    const eventually = (what: string, probe: () => boolean): Promise<void> => waitForVirtual(time, probe, DEADLINE_MS, what);
    const committed: Entry[] = [];
    const driver = new RaftDriver(
      raftConfig('solo', ['solo'], 1),
      storage,
      hub.connect('solo'),
      time,
      { tickMs: 5, messagesQueuedMax: 16, proposalsQueuedMax: 8 },
      { onCommitted: (entries) => committed.push(...entries) },
    );
    await driver.start();
    driver.campaign();
    await eventually('the single node to lead', () => driver.status()?.role === 'leader');
    for (const data of ['x1', 'x2', 'x3']) await driver.propose(data);
    await eventually('three entries applied', () => committed.filter((e) => e.type === 'normal').length === 3);
    const applied = driver.status()?.appliedIndex ?? 0;

    const snapshot = await driver.compact(applied, 'state@applied');
    expect(snapshot).toMatchObject({ index: applied, voters: ['solo'], data: 'state@applied' });
    expect(driver.snapshotIndex).toBe(applied);
    const stored = await storage.load();
    expect(stored.snapshot?.index).toBe(applied);
    expect(stored.entries.every((e) => e.index > applied)).toBe(true);
    await expect(driver.compact(applied, 'again')).resolves.toBeNull();

    await driver.propose('x4');
    await driver.propose('x5');
    await eventually('x5 applied', () => committed.some((e) => e.data === 'x5'));
    // applied + 1 was applied, but so was applied + 2: the core snapshots only at the applied index.
    await expect(driver.compact(applied + 1, 'behind')).rejects.toBeInstanceOf(RaftCompactionIndexError);
    expect(driver.state).toBe('running');
    await expect(driver.compactApplied(() => null)).resolves.toBeNull();
    const latest = await driver.compactApplied((index) => `state@${index}`);
    expect(latest?.index).toBe(driver.status()?.appliedIndex);

    const added = await driver.proposeConfChange({ type: 'AddVoter', nodeId: 'other' });
    expect(added.ok).toBe(true);
    const again = await driver.proposeConfChange({ type: 'AddVoter', nodeId: 'other' });
    expect(again).toMatchObject({ ok: false });
    await driver.stop();
    await expect(driver.proposeConfChange({ type: 'RemoveVoter', nodeId: 'other' })).rejects.toMatchObject({ retriable: true });
  });
});
