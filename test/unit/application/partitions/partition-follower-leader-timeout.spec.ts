import { InMemoryPartitionLogStore } from '../../../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { InMemoryReplicationHub } from '../../../../src/adapters/outbound/memory/in-memory-replication-transport';
import { PartitionFollower } from '../../../../src/application/partitions/partition-follower';
import { silentLogger } from '../../../support/memory-broker';
import { keepEverythingLogOptions } from '../../../support/partition-log-options';
import { VirtualTime } from '../../../support/virtual-time';

const REF = { stream: 's', partition: 0 };

/** A follower of a leader that answers until `hub.setReachable('a', false)`; its reports, by virtual time. */
async function follow(leaderTimeoutMs: number, fetchTimeoutMs = 500, sent: () => boolean = () => true) {
  const time = new VirtualTime();
  const hub = new InMemoryReplicationHub({ scheduler: time });
  const leader = hub.connect('a');
  // A caught-up follower's fetch is held open for a while, as a real leader does.
  await leader.serveFetches(REF, () => new Promise((resolve) => time.setTimeout(() => resolve({ leaderEpoch: 1, highWatermark: -1, records: null }), 200)));
  await leader.serveLeaderEpochEndOffsets(REF, () => ({ leaderEpoch: 1, endOffset: 0 }));
  const log = await new InMemoryPartitionLogStore().open(REF, keepEverythingLogOptions(1024 * 1024));
  const reports: number[] = [];
  const follower = new PartitionFollower(
    { self: 'b', ref: REF, leaderEpoch: 1, fetchTimeoutMs, leaderTimeoutMs },
    { log, transport: hub.connect('b'), scheduler: time, clock: time, logger: silentLogger, inIsr: () => true, reportLeader: async () => {
      reports.push(time.elapsedMs);
      return sent();
    } },
  );
  follower.start();
  return { time, hub, reports, stop: () => Promise.all([follower.stop(), time.advance(1000)]).then(() => log.close()) };
}

describe('a follower whose leader stops answering (replica.max.leader.timeout)', () => {
  it('reports nothing while the leader answers', async () => {
    const f = await follow(3000);
    await f.time.advance(10_000);
    expect(f.reports).toEqual([]);
    await f.stop();
  });

  it('reports the leader once it has been silent for the timeout, then about once a second, and stops when it answers again', async () => {
    const f = await follow(3000);
    await f.time.advance(1000);
    f.hub.setReachable('a', false);
    const cutAt = f.time.elapsedMs;
    await f.time.advance(2500);
    expect(f.reports).toEqual([]);
    await f.time.advance(3000);
    expect(f.reports.length).toBeGreaterThanOrEqual(2);
    // Silence counts from the last answer, at most one held fetch (200 ms) before the cut.
    expect(f.reports[0]! - cutAt).toBeGreaterThanOrEqual(3000 - 200);
    expect(f.reports[0]! - cutAt).toBeLessThanOrEqual(3000);
    for (let i = 1; i < f.reports.length; i++) expect(f.reports[i]! - f.reports[i - 1]!).toBeGreaterThanOrEqual(1000);
    f.hub.setReachable('a', true);
    await f.time.advance(1000);
    const reported = f.reports.length;
    await f.time.advance(5000);
    expect(f.reports.length).toBe(reported);
    await f.stop();
  });

  it('reports at the leader timeout itself, not at the first fetch timeout after it', async () => {
    // Fetches time out at 1,000 ms (+ 50 ms pause): without the silence timer the first report came up to 1,050 ms late.
    const f = await follow(3000, 1000);
    await f.time.advance(1000);
    f.hub.setReachable('a', false);
    const cutAt = f.time.elapsedMs;
    await f.time.advance(5000);
    expect(f.reports.length).toBeGreaterThanOrEqual(1);
    expect(f.reports[0]! - cutAt).toBeGreaterThanOrEqual(3000 - 200);
    expect(f.reports[0]! - cutAt).toBeLessThanOrEqual(3000);
    await f.stop();
  });

  it('tries a report held back by its own unconfirmed metadata contact again within 100 ms, not a report interval later', async () => {
    let contact = false;
    const f = await follow(3000, 1000, () => contact);
    await f.time.advance(1000);
    f.hub.setReachable('a', false);
    await f.time.advance(3000);
    expect(f.reports.length).toBeGreaterThanOrEqual(1); // held back
    const heldAt = f.reports.at(-1)!;
    contact = true;
    await f.time.advance(150);
    expect(f.reports.at(-1)! - heldAt).toBeGreaterThan(0);
    expect(f.reports.at(-1)! - heldAt).toBeLessThanOrEqual(150);
    const sentAt = f.reports.at(-1)!;
    await f.time.advance(900);
    expect(f.reports.at(-1)).toBe(sentAt); // once sent, the report interval again
    await f.stop();
  });
});
