import { RaftAckLease } from '../../../../src/application/cluster/ack-lease';
import type { PeerContact } from '../../../../src/application/ports/peer-contact.port';
import type { MetadataGateway } from '../../../../src/application/cluster/metadata-gateway';
import type { MetadataCommand } from '../../../../src/domain/metadata/metadata-commands';
import { ok } from '../../../../src/domain/shared/result';
import { memorySettings, silentLogger } from '../../../support/memory-broker';
import { FakeRaftGroup } from './cluster-fixtures';
import { VirtualTime } from '../../../support/virtual-time';

/** When did we last hear each peer, and when did contact last resume after a silence (virtual time). */
class FakeContact implements PeerContact {
  readonly heardAt = new Map<string, number>();
  readonly gapEnds = new Map<string, number>();
  constructor(private readonly time: VirtualTime) {}
  silenceMs(peer: string): number {
    const at = this.heardAt.get(peer);
    return at === undefined ? Number.POSITIVE_INFINITY : this.time.nowMs() - at;
  }
  gapEndMs(peer: string): number {
    return this.gapEnds.get(peer) ?? 0;
  }
  hear(peer: string): void {
    const previous = this.heardAt.get(peer);
    if (previous !== undefined && this.time.nowMs() - previous > 1000) this.gapEnds.set(peer, this.time.nowMs());
    this.heardAt.set(peer, this.time.nowMs());
  }
}

function setup(options: { self?: string; voters?: string[]; isLeader?: boolean; leader?: string | null } = {}) {
  const time = new VirtualTime();
  const group = new FakeRaftGroup({ isLeader: options.isLeader ?? false, leader: options.leader ?? 'c', voters: options.voters ?? ['a', 'b', 'c'] });
  const contact = new FakeContact(time);
  const barriers: MetadataCommand[] = [];
  let answer: () => Promise<unknown> = async () => ok([]);
  const gateway = {
    execute: (command: MetadataCommand) => {
      barriers.push(command);
      return answer();
    },
  } as unknown as MetadataGateway;
  const settings = memorySettings({ serverId: options.self ?? 'a', ackLeaseMs: 1000 });
  const lease = new RaftAckLease(group, contact, gateway, settings, time, time, silentLogger);
  return { time, group, contact, lease, barriers, setAnswer: (f: () => Promise<unknown>) => (answer = f) };
}

describe('RaftAckLease (a partition leader acknowledges only with current metadata)', () => {
  it('always holds in a group of one', () => {
    const { lease } = setup({ voters: ['a'], isLeader: true, leader: 'a' });
    expect(lease.holds()).toBe(true);
  });

  it('a follower holds it while it heard the Raft leader within the lease, not after', async () => {
    const { lease, contact, time } = setup();
    expect(lease.holds()).toBe(false); // never heard the leader
    contact.hear('c');
    expect(lease.holds()).toBe(true);
    await time.advance(999);
    expect(lease.holds()).toBe(true);
    await time.advance(2);
    expect(lease.holds()).toBe(false);
  });

  it('a Raft leader holds it while it heard a quorum within the lease', async () => {
    const { lease, contact, time } = setup({ isLeader: true, leader: 'a' });
    expect(lease.holds()).toBe(false);
    contact.hear('b');
    expect(lease.holds()).toBe(true); // a and b of three
    await time.advance(1001);
    expect(lease.holds()).toBe(false);
  });

  it('after a silence, holds again only once a read barrier through the controller completed', async () => {
    const { lease, contact, time, barriers, setAnswer } = setup();
    contact.hear('c');
    expect(lease.holds()).toBe(true);
    await time.advance(5000); // paused: the leader may have been replaced meanwhile
    let release: () => void = () => undefined;
    setAnswer(() => new Promise((resolve) => (release = () => resolve(ok([])))));
    contact.hear('c'); // contact resumes
    expect(lease.holds()).toBe(false);
    expect(barriers).toEqual([{ type: 'SetBrokerReachable', data: { id: 'a', reachable: true, atNs: expect.any(String) } }]);
    expect(lease.holds()).toBe(false); // one barrier at a time
    expect(barriers).toHaveLength(1);
    const held = lease.whenHeld();
    release();
    await time.advance(20);
    await held;
    expect(lease.holds()).toBe(true);
  });

  it('keeps refusing while the barrier fails, and retries it', async () => {
    const { lease, contact, time, barriers, setAnswer } = setup();
    contact.hear('c');
    await time.advance(3000);
    setAnswer(async () => {
      throw new Error('metadata operation timed out');
    });
    contact.hear('c');
    expect(lease.holds()).toBe(false);
    await time.advance(1);
    expect(lease.holds()).toBe(false);
    expect(barriers.length).toBeGreaterThanOrEqual(2);
  });

  it('a follower is not held up by another peer speaking after a silence (a deaf server campaigning)', async () => {
    const { lease, contact, time, barriers } = setup();
    contact.hear('c');
    contact.hear('b');
    for (let i = 0; i < 5; i++) {
      await time.advance(600);
      contact.hear('c'); // the Raft leader, steadily
      if (i === 4) contact.hear('b'); // b silent 3 s, then its pre-vote arrives
      expect(lease.holds()).toBe(true);
    }
    expect(barriers).toEqual([]);
  });

  it('a Raft leader is not held up by one follower resuming while the rest of its quorum stayed in contact', async () => {
    const { lease, contact, time, barriers } = setup({ isLeader: true, leader: 'a' });
    contact.hear('b');
    contact.hear('c');
    for (let i = 0; i < 5; i++) {
      await time.advance(600);
      contact.hear('b');
      expect(lease.holds()).toBe(true);
    }
    contact.hear('c'); // c resumes after 3 s
    expect(lease.holds()).toBe(true);
    expect(barriers).toEqual([]);
  });

  it('a Raft leader whose whole quorum resumed after a silence (its own pause) revalidates', async () => {
    const { lease, contact, time, barriers } = setup({ isLeader: true, leader: 'a' });
    contact.hear('b');
    contact.hear('c');
    await time.advance(3000);
    contact.hear('b'); // the first message after the pause; c's is still queued
    expect(lease.holds()).toBe(false);
    expect(barriers).toHaveLength(1);
  });

  it('a Raft leader counts a follower silent now as lost: one resuming then is not enough without a barrier', async () => {
    const { lease, contact, time, barriers } = setup({ isLeader: true, leader: 'a' });
    contact.hear('b');
    contact.hear('c');
    await time.advance(1500); // both silent: the quorum lapsed
    contact.hear('b');
    expect(lease.holds()).toBe(false);
    expect(barriers).toHaveLength(1);
  });

  it('a follower revalidates when the Raft leader changes, even without a silence', async () => {
    const { lease, contact, group, barriers } = setup();
    contact.hear('c');
    contact.hear('b');
    expect(lease.holds()).toBe(true);
    group.leader = 'b';
    expect(lease.holds()).toBe(false);
    expect(barriers).toHaveLength(1);
  });
});
