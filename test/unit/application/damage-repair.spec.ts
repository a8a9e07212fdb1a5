/**
 * Damage repair decisions (docs/replication.md "Damaged records"): a follower rewrites damaged
 * records in place from its leader's copy, truncates only outside the ISR, and tells readers when
 * it cannot repair; a leader hands its leadership over only when another ISR member exists (also
 * when its log cannot write), and the monitor reports every partition's damage.
 */
import { PartitionHealthMonitor, MonitoredPartition } from '../../../src/application/partitions/partition-health-monitor';
import { repairSourceFor } from '../../../src/application/partitions/damage-repair-policy';
import { FollowerRepair } from '../../../src/application/partitions/follower-repair';
import { PartitionMetrics } from '../../../src/application/ports/metrics.port';
import { OffsetRange, PartitionLog, RecordBatch } from '../../../src/application/ports/partition-log.port';
import { ReplicationFetch, ReplicationReply, ReplicationTransport, ReplicationUnavailableError } from '../../../src/application/ports/replication-transport.port';
import { NEVER, PartitionState } from '../../../src/domain/partition/partition-state';
import { silentLogger } from '../../support/memory-broker';
import { VirtualTime } from '../../support/virtual-time';
import { StorageIoError } from '../../../src/application/errors/broker-errors';

const ref = { stream: 's', partition: 0 };
const partition = (over: Partial<PartitionState> = {}): PartitionState => ({
  stream: 's',
  id: 0,
  subject: 's',
  group: '',
  replicationFactor: 3,
  replicas: ['a', 'b', 'c'],
  isr: ['a', 'b', 'c'],
  leader: 'a',
  leaderEpoch: 7,
  epoch: 7,
  paused: false,
  readonly: false,
  pauseTimestamps: NEVER,
  readonlyTimestamps: NEVER,
  ...over,
});

/** The parts of a log the repair uses, with damage set by the test. */
class DamagedLog {
  damaged: readonly OffsetRange[] = [];
  newestOffset = 99;
  closedReason = null;
  truncatedFrom: number | null = null;
  repairs: RecordBatch[] = [];
  repairable = true;
  async repairDamaged(batch: RecordBatch): Promise<number> {
    this.repairs.push(batch);
    if (!this.repairable) return 0;
    const fixed = this.damaged.filter((r) => r.firstOffset >= batch.firstOffset && r.lastOffset <= batch.lastOffset);
    this.damaged = this.damaged.filter((r) => !fixed.includes(r));
    return fixed.reduce((n, r) => n + r.lastOffset - r.firstOffset + 1, 0);
  }
  async truncateFrom(offset: number): Promise<void> {
    this.truncatedFrom = offset;
    this.damaged = this.damaged.filter((r) => r.lastOffset < offset);
    this.newestOffset = offset - 1;
  }
}

class LeaderStub {
  requests: ReplicationFetch[] = [];
  answer: (request: ReplicationFetch) => ReplicationReply | Error = (request) => ({
    leaderEpoch: 7,
    highWatermark: 99,
    records: { bytes: Buffer.alloc(0), firstOffset: request.offset + 1, lastOffset: request.offset + 10, count: 10 },
  });
  readonly transport = {
    fetch: async (_ref: unknown, request: ReplicationFetch): Promise<ReplicationReply> => {
      this.requests.push(request);
      const reply = this.answer(request);
      if (reply instanceof Error) throw reply;
      return reply;
    },
  } as unknown as ReplicationTransport;
}

function followerRepair(log: DamagedLog, leader: LeaderStub, inIsr: () => boolean): FollowerRepair {
  return new FollowerRepair(
    { self: 'b', ref, leaderEpoch: 7, fetchTimeoutMs: 100 },
    { log: log as unknown as PartitionLog, transport: leader.transport, logger: silentLogger, inIsr },
  );
}

describe('a follower repairing damaged records', () => {
  it('does nothing while its log is sound', async () => {
    const leader = new LeaderStub();
    expect(await followerRepair(new DamagedLog(), leader, () => true).attempt()).toBe('none');
    expect(leader.requests).toEqual([]);
  });

  it('fetches the leader copy from the first damaged offset and rewrites it in place, cutting nothing', async () => {
    const log = new DamagedLog();
    log.damaged = [{ firstOffset: 40, lastOffset: 40 }];
    const leader = new LeaderStub();
    expect(await followerRepair(log, leader, () => true).attempt()).toBe('repaired');
    expect(leader.requests).toEqual([{ replicaId: 'b', offset: 39, leaderEpoch: 7 }]);
    expect(log.repairs[0]!.firstOffset).toBe(40);
    expect(log.damaged).toEqual([]);
    expect(log.truncatedFrom).toBeNull();
  });

  it('when the copy cannot be written in place, stalls while in the ISR and truncates only once outside it', async () => {
    const log = new DamagedLog();
    log.damaged = [{ firstOffset: 40, lastOffset: 42 }];
    log.repairable = false;
    let inIsr = true;
    const repair = followerRepair(log, new LeaderStub(), () => inIsr);
    expect(await repair.attempt()).toBe('stall');
    expect(log.truncatedFrom).toBeNull();
    inIsr = false;
    expect(await repair.attempt()).toBe('repaired');
    expect(log.truncatedFrom).toBe(40);
  });

  it('retries when the leader sends no good copy, and reports itself blocked after three failures in a row', async () => {
    const log = new DamagedLog();
    log.damaged = [{ firstOffset: 40, lastOffset: 40 }];
    const leader = new LeaderStub();
    const replies: (ReplicationReply | Error)[] = [
      new ReplicationUnavailableError('timeout'),
      { leaderEpoch: 8, highWatermark: 99, records: null }, // another epoch
      { leaderEpoch: 7, highWatermark: 99, records: { bytes: Buffer.alloc(0), firstOffset: 41, lastOffset: 41, count: 1 } }, // past it
    ];
    leader.answer = () => replies.shift()!;
    const repair = followerRepair(log, leader, () => true);
    for (let i = 0; i < 3; i++) {
      expect(repair.blocked).toBe(false);
      expect(await repair.attempt()).toBe('retry');
    }
    expect(repair.blocked).toBe(true);
    expect(log.repairs).toEqual([]);
    leader.answer = new LeaderStub().answer;
    expect(await repair.attempt()).toBe('repaired');
    expect(repair.blocked).toBe(false);
  });
});

describe('the damage monitor', () => {
  const gauges = new Map<string, number>();
  const metrics = (name: string): PartitionMetrics => ({
    appended: () => undefined,
    acked: () => undefined,
    delivered: () => undefined,
    refused: () => undefined,
    damagedRecords: (count) => gauges.set(name, count),
    release: () => undefined,
  });
  const running = (state: PartitionState, damaged: readonly OffsetRange[], over: Partial<MonitoredPartition> = {}): MonitoredPartition => ({
    state,
    log: { damaged, closedReason: null, storageFailure: null } as unknown as PartitionLog,
    isLeader: state.leader === 'a',
    metrics: metrics(state.stream),
    followerRepairBlocked: false,
    ...over,
  });
  function monitor(partitions: MonitoredPartition[], handOver: (s: PartitionState) => Promise<boolean>): PartitionHealthMonitor {
    return new PartitionHealthMonitor({ self: 'a', scheduler: undefined as never, logger: silentLogger, partitions: () => partitions, handOverLeadership: handOver });
  }
  beforeEach(() => gauges.clear());

  it('has a leader with damage and an in-sync peer hand its leadership over, once while the request runs', async () => {
    const asked: PartitionState[] = [];
    let finish: (done: boolean) => void = () => undefined;
    const p = running(partition(), [{ firstOffset: 5, lastOffset: 6 }]);
    const m = monitor([p], (s) => (asked.push(s), new Promise((resolve) => (finish = resolve))));
    m.check();
    m.check();
    expect(asked).toHaveLength(1);
    expect(gauges.get('s')).toBe(2);
    expect(m.repairable(p)).toBe(true);
    expect(m.report()).toEqual([{ stream: 's', partition: 0, role: 'leader', damaged: [{ firstOffset: 5, lastOffset: 6 }], records: 2, repair: 'handing-over-leadership' }]);
    finish(false); // refused: it asks again after ten checks, and readers keep waiting meanwhile
    await new Promise((resolve) => setImmediate(resolve));
    expect(m.repairable(p)).toBe(true);
    for (let i = 0; i < 10; i++) m.check();
    expect(asked).toHaveLength(1);
    m.check();
    expect(asked).toHaveLength(2);
  });

  it('only reports damage without a replica to repair from (one replica, or an ISR of one)', () => {
    const asked: PartitionState[] = [];
    const single = running(partition({ replicas: ['a'], isr: ['a'] }), [{ firstOffset: 1, lastOffset: 1 }]);
    const alone = running(partition({ stream: 't', isr: ['a'] }), [{ firstOffset: 2, lastOffset: 2 }]);
    const m = monitor([single, alone], async (s) => (asked.push(s), true));
    m.check();
    expect(asked).toEqual([]);
    expect(m.report().map((r) => r.repair)).toEqual(['unrepairable', 'unrepairable']);
    expect([gauges.get('s'), gauges.get('t')]).toEqual([1, 1]);
  });

  it('has a leader whose log cannot write (a full disk) hand its leadership to an in-sync peer; a follower or a lone leader stays', async () => {
    const asked: PartitionState[] = [];
    const failed = (state: PartitionState): MonitoredPartition =>
      running(state, [], { log: { damaged: [], closedReason: null, storageFailure: new StorageIoError('no space', 'ENOSPC') } as unknown as PartitionLog });
    const leader = failed(partition());
    const follower = failed(partition({ stream: 'f', leader: 'b' }));
    const alone = failed(partition({ stream: 'l', isr: ['a'] }));
    const healthy = running(partition({ stream: 'h' }), []);
    const m = monitor([leader, follower, alone, healthy], async (s) => (asked.push(s), true));
    m.check();
    m.check(); // not asked twice while the first request runs
    await new Promise((resolve) => setImmediate(resolve));
    expect(asked.map((s) => s.stream)).toEqual(['s']);
    expect(m.report()).toEqual([]); // nothing damaged: the damage report stays empty
  });

  it('looks at once when told that an append failed (checkSoon), without shortening the wait after a refusal', async () => {
    const time = new VirtualTime();
    const asked: PartitionState[] = [];
    const leader = running(partition(), [], { log: { damaged: [], closedReason: null, storageFailure: new StorageIoError('no space', 'ENOSPC') } as unknown as PartitionLog });
    const m = new PartitionHealthMonitor({ self: 'a', scheduler: time, logger: silentLogger, partitions: () => [leader], handOverLeadership: async (s) => (asked.push(s), false) });
    m.start();
    m.checkSoon();
    m.checkSoon(); // one pass for both
    await time.advance(1);
    expect(asked).toHaveLength(1); // long before the 1 s interval
    for (let i = 0; i < 50; i++) {
      m.checkSoon();
      await time.advance(1);
    }
    expect(asked).toHaveLength(1); // refused: the next request still waits for ten interval passes
    await time.advance(11_000);
    expect(asked).toHaveLength(2);
    m.stop();
  });

  it('has readers wait in the moment a leader stopped leading after its hand-over, until the change restarts it as a follower', () => {
    const roleless = running(partition(), [{ firstOffset: 4, lastOffset: 4 }], { isLeader: false });
    const m = monitor([roleless], async () => true);
    expect(m.repairable(roleless)).toBe(true);
    expect(m.report().map((r) => [r.role, r.repair])).toEqual([['follower', 'handing-over-leadership']]);
  });

  it('leaves a follower to repair from its leader, unless that is blocked', () => {
    const follower = running(partition({ leader: 'b' }), [{ firstOffset: 3, lastOffset: 3 }]);
    const blocked = running(partition({ stream: 'u', leader: 'b' }), [{ firstOffset: 3, lastOffset: 3 }], { followerRepairBlocked: true });
    const m = monitor([follower, blocked], async () => true);
    m.check();
    expect(m.report().map((r) => [r.role, r.repair])).toEqual([
      ['follower', 'repairing-from-leader'],
      ['follower', 'unrepairable'],
    ]);
  });

  it('clears the gauge when the damage is gone', () => {
    const p = running(partition({ leader: 'b' }), [{ firstOffset: 3, lastOffset: 3 }]);
    const m = monitor([p], async () => true);
    m.check();
    expect(gauges.get('s')).toBe(1);
    (p.log as unknown as { damaged: OffsetRange[] }).damaged = [];
    m.check();
    expect(gauges.get('s')).toBe(0);
  });

  it('names a follower repair source only with another replica', () => {
    expect(repairSourceFor(partition({ leader: 'b' }), 'a')).toBe('leader');
    expect(repairSourceFor(partition(), 'a')).toBe('isr-peer');
    expect(repairSourceFor(partition({ isr: ['a'] }), 'a')).toBeNull();
    expect(repairSourceFor(partition({ replicas: ['a'], isr: ['a'] }), 'a')).toBeNull();
  });
});
