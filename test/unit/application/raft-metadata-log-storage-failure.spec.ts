/**
 * The metadata log when its Raft storage cannot save (a full disk; docs/raft.md "Storage
 * failures"): the driver keeps the Ready, retries the same save with a back-off and resumes when it
 * succeeds, refusing proposals meanwhile with a clear, retriable error. It used to fail for good
 * ("raft driver is failed") until a restart.
 */
import { RaftStorageFailedError } from '../../../src/application/metadata/raft-driver';
import { RaftMetadataLog, RaftMetadataLogOptions } from '../../../src/application/metadata/raft-metadata-log';
import { StorageIoError } from '../../../src/application/errors/broker-errors';
import { MetadataLogEntry } from '../../../src/application/ports/metadata-log.port';
import { RaftStorage } from '../../../src/application/ports/raft-storage.port';
import { InMemoryRaftStorage } from '../../../src/adapters/outbound/memory/in-memory-raft-storage';
import { InMemoryRaftHub } from '../../../src/adapters/outbound/memory/in-memory-raft-transport';
import type { Entry, HardState, PersistedRaftState, Snapshot } from '../../../src/domain/consensus/raft';
import { MetadataProposal } from '../../../src/domain/metadata/metadata-proposal';
import { silentLogger } from '../../support/memory-broker';
import { testRaftConfig } from '../../support/raft-configs';
import { VirtualTime } from '../../support/virtual-time';
import { settleVirtual, waitForVirtual } from '../../support/wait-for';

const options: RaftMetadataLogOptions = { tickMs: 5, messagesQueuedMax: 4096, proposalsQueuedMax: 64, proposeTimeoutMs: 4000, snapshotThreshold: 0 };
const proposal = (id: string): MetadataProposal => ({ proposalId: id, events: [], expectations: [] });
const ids = (entries: readonly MetadataLogEntry[]): string[] => entries.flatMap((e) => (e.kind === 'proposal' ? [e.proposal.proposalId] : []));

/** In-memory Raft storage on a disk that can be full: saves fail with ENOSPC and nothing of them lands. */
class FlakyRaftStorage implements RaftStorage {
  private readonly inner = new InMemoryRaftStorage();
  full = false;
  failedSaves = 0;

  load(): Promise<PersistedRaftState> {
    return this.inner.load();
  }

  async save(hardState: HardState | undefined, entries: readonly Entry[], snapshot?: Snapshot): Promise<void> {
    if (this.full) {
      this.failedSaves++;
      throw new StorageIoError('raft storage /data/raft failed to write or sync (ENOSPC)', 'ENOSPC');
    }
    await this.inner.save(hardState, entries, snapshot);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Node {
  readonly storage: FlakyRaftStorage;
  readonly log: RaftMetadataLog;
  readonly seen: MetadataLogEntry[];
  readonly ioErrors: StorageIoError[];
}

/** A node on `time`: the save retries' back-off (1 s, doubling) passes in virtual time. */
function node(hub: InMemoryRaftHub, time: VirtualTime, id: string, voters: string[], seed: number): Node {
  const storage = new FlakyRaftStorage();
  const ioErrors: StorageIoError[] = [];
  const log = new RaftMetadataLog(
    { config: testRaftConfig(id, voters, seed), storage, transport: hub.connect(id), scheduler: time, logger: silentLogger, onStorageIoError: (e) => ioErrors.push(e) },
    options,
  );
  const seen: MetadataLogEntry[] = [];
  log.committed$.subscribe((entry) => seen.push(entry));
  return { storage, log, seen, ioErrors };
}

describe('RaftMetadataLog when its storage cannot save', () => {
  it('refuses proposals with a clear error while saves fail, and resumes by itself once they succeed', async () => {
    const time = new VirtualTime();
    const single = node(new InMemoryRaftHub(), time, 'a', ['a'], 1);
    await single.log.start();
    single.log.driver.campaign();
    await waitForVirtual(time, () => single.log.isLeader, 5000, 'a leader');
    try {
      await single.log.propose(proposal('p1'));
      single.storage.full = true;

      const started = time.elapsedMs;
      const stalled = settleVirtual(time, single.log.propose(proposal('p2')), options.proposeTimeoutMs, 'the refusal');
      await expect(stalled).rejects.toBeInstanceOf(RaftStorageFailedError);
      await expect(stalled).rejects.toThrow(/ENOSPC.*may still be committed/);
      expect(time.elapsedMs - started).toBeLessThan(options.proposeTimeoutMs); // told at once, not at the timeout
      expect(single.log.storageFailure).toMatchObject({ code: 'ENOSPC' });
      const refused = single.log.propose(proposal('p3'));
      await expect(refused).rejects.toBeInstanceOf(RaftStorageFailedError);
      await expect(refused).rejects.toMatchObject({ retriable: true });
      expect(single.log.driver.state).toBe('running');
      await waitForVirtual(time, () => single.storage.failedSaves >= 2, 5000, 'the save to be retried');
      expect(single.ioErrors.length).toBe(single.storage.failedSaves);

      single.storage.full = false;
      await waitForVirtual(time, () => single.log.storageFailure === null, 10_000, 'the retried save to succeed');
      await waitForVirtual(time, () => ids(single.seen).includes('p2'), 5000, 'the stalled proposal to be committed');
      await single.log.propose(proposal('p4'));
      expect(ids(single.seen)).toEqual(['p1', 'p2', 'p4']);
    } finally {
      await single.log.close();
    }
  });

  it('lets the other voters go on while one node stalls, and the stalled node catches up', async () => {
    const hub = new InMemoryRaftHub();
    const time = new VirtualTime();
    const voters = ['a', 'b', 'c'];
    const nodes = voters.map((id, i) => node(hub, time, id, voters, 100 + i * 7919));
    await Promise.all(nodes.map((n) => n.log.start()));
    try {
      await waitForVirtual(time, () => nodes.some((n) => n.log.isLeader), 5000, 'a leader');
      const leader = nodes.find((n) => n.log.isLeader)!;
      await leader.log.propose(proposal('q1'));
      leader.storage.full = true;
      await expect(leader.log.propose(proposal('q2'))).rejects.toBeInstanceOf(RaftStorageFailedError);

      // The others elect a leader among themselves (the stalled one neither ticks nor answers) and commit.
      let other: Node | undefined;
      await waitForVirtual(time, () => (other = nodes.find((n) => n !== leader && n.log.isLeader)) !== undefined, 10_000, 'a new leader');
      await other!.log.propose(proposal('q3'));

      leader.storage.full = false;
      await waitForVirtual(time, () => leader.log.storageFailure === null && ids(leader.seen).includes('q3'), 15_000, 'the stalled node to catch up');
      expect(leader.log.driver.state).toBe('running');
      for (const n of nodes) await waitForVirtual(time, () => ids(n.seen).join() === ids(other!.seen).join(), 5000, 'every node to agree');
    } finally {
      for (const n of nodes) await n.log.close();
    }
  });

  it('stops at once while a save is failing', async () => {
    const time = new VirtualTime();
    const single = node(new InMemoryRaftHub(), time, 'a', ['a'], 3);
    await single.log.start();
    single.log.driver.campaign();
    await waitForVirtual(time, () => single.log.isLeader, 5000, 'a leader');
    single.storage.full = true;
    await expect(settleVirtual(time, single.log.propose(proposal('x')), options.proposeTimeoutMs, 'the refusal')).rejects.toBeInstanceOf(RaftStorageFailedError);
    const started = time.elapsedMs;
    await settleVirtual(time, single.log.close(), 500, 'the close');
    expect(time.elapsedMs - started).toBeLessThan(500);
    expect(single.log.driver.state).toBe('stopped');
  });
});
