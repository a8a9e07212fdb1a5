import { InMemoryPartitionLogStore } from '../../../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { InMemoryReplicationHub } from '../../../../src/adapters/outbound/memory/in-memory-replication-transport';
import { LeaderReplication } from '../../../../src/application/partitions/leader-replication';
import { PartitionFollower } from '../../../../src/application/partitions/partition-follower';
import type { Logger } from '../../../../src/application/ports/logger.port';
import type { PartitionLog } from '../../../../src/application/ports/partition-log.port';
import { silentLogger } from '../../../support/memory-broker';
import { keepEverythingLogOptions } from '../../../support/partition-log-options';
import { VirtualTime } from '../../../support/virtual-time';
import { waitForVirtual } from '../../../support/wait-for';

/**
 * Replies within the NATS payload limit (docs/replication.md "Message size"): a reply is a 24-byte header plus records; with records sized to
 * replication.max.bytes alone (1 MiB) a full reply exceeded NATS max_payload (1 MiB), the NATS
 * client refused it, and a follower catching up a backlog stayed behind forever. The in-memory hub
 * drops replies above its payload limit as the NATS client does.
 */
const MiB = 1024 * 1024;
const REF = { stream: 's', partition: 0 };
const LOG_OPTIONS = keepEverythingLogOptions(64 * MiB);
/** Leader records get the server headers subject "s" and reply "": entry = 68 + 1 + value bytes. */
const valueForEntry = (entryBytes: number): Buffer => Buffer.alloc(entryBytes - 69, 0x61);

interface Pair {
  readonly time: VirtualTime;
  readonly hub: InMemoryReplicationHub;
  readonly leaderLog: PartitionLog;
  readonly followerLog: PartitionLog;
  readonly errors: string[];
  stop(): Promise<void>;
}

async function replicate(entryBytes: number, count: number, replicationMaxBytes = MiB): Promise<Pair> {
  const time = new VirtualTime();
  const hub = new InMemoryReplicationHub({ scheduler: time, payloadBytesMax: MiB });
  const leaderLog = await new InMemoryPartitionLogStore().open(REF, LOG_OPTIONS);
  const followerLog = await new InMemoryPartitionLogStore().open(REF, LOG_OPTIONS);
  leaderLog.beginLeaderEpoch(1);
  const value = valueForEntry(entryBytes);
  for (let i = 0; i < count; i += 500) {
    const records = Array.from({ length: Math.min(500, count - i) }, () => ({ key: null, value, headers: null, subject: 's', reply: '' }));
    await leaderLog.append(records, 1n, 1).durable;
  }
  const errors: string[] = [];
  const logger: Logger = { ...silentLogger, error: (_fields, message) => void errors.push(message), child: () => logger };
  const leader = new LeaderReplication(
    { self: 'a', ref: REF, leaderEpoch: 1, replicas: ['a', 'b'], isr: ['a'], minIsr: 1, maxLagTimeMs: 60_000, fetchWaitMs: 50, replyBytesMax: replicationMaxBytes },
    { log: leaderLog, transport: hub.connect('a'), clock: time, scheduler: time, logger, requestIsrChange: async () => true, onCommitted: () => undefined },
  );
  await leader.start();
  const follower = new PartitionFollower(
    { self: 'b', ref: REF, leaderEpoch: 1, fetchTimeoutMs: 1000, leaderTimeoutMs: 15_000 },
    { log: followerLog, transport: hub.connect('b'), scheduler: time, clock: time, logger: silentLogger, inIsr: () => true, reportLeader: async () => true },
  );
  follower.start();
  return {
    time,
    hub,
    leaderLog,
    followerLog,
    errors,
    stop: async () => {
      leader.stop();
      const stopped = follower.stop();
      await time.advance(2000);
      await stopped;
    },
  };
}

/** Advances virtual time until the follower holds everything the leader has; fails after `ms`. */
async function catchUp(pair: Pair, ms = 30_000): Promise<void> {
  await waitForVirtual(pair.time, () => pair.followerLog.newestOffset >= pair.leaderLog.newestOffset, ms, 'the follower to catch up');
}

describe('replication replies fit the transport', () => {
  it.each([
    [256, 5000],
    [1024, 1200],
    [128, 9000],
  ])('a follower catches up a backlog of %i-byte entries larger than one reply (%i entries)', async (entryBytes, count) => {
    const pair = await replicate(entryBytes, count);
    expect(count * entryBytes).toBeGreaterThan(MiB);
    await catchUp(pair);
    expect(pair.followerLog.newestOffset).toBe(count - 1);
    expect(pair.hub.oversizedReplies).toBe(0);
    await pair.stop();
  });

  it('replies shrink when the transport limit drops below replication.max.bytes (a reconnect to another server)', async () => {
    const pair = await replicate(1024, 600);
    pair.hub.payloadBytesMax = 64 * 1024;
    await catchUp(pair);
    expect(pair.followerLog.newestOffset).toBe(599);
    expect(pair.hub.oversizedReplies).toBe(0);
    await pair.stop();
  });

  it('replies stay within replication.max.bytes, header included, when it is the smaller limit', async () => {
    const pair = await replicate(1024, 100, 4096);
    pair.hub.payloadBytesMax = 4096; // what the start-up check allows at most: any larger reply is lost
    await catchUp(pair);
    expect(pair.followerLog.newestOffset).toBe(99);
    expect(pair.hub.oversizedReplies).toBe(0);
    await pair.stop();
  });

  it('an entry larger than any reply is not sent (no answer, logged), and copying resumes once it fits again', async () => {
    const pair = await replicate(2048, 10);
    pair.hub.payloadBytesMax = 2000;
    await pair.time.advance(5000);
    expect(pair.followerLog.newestOffset).toBe(-1);
    expect(pair.hub.oversizedReplies).toBe(0);
    expect(pair.errors).toContain('a record is larger than a replication reply can carry: followers cannot copy it');
    // Logged by time, not once per fetch: one line for 5 s of fetches every ~1 s.
    expect(pair.errors.length).toBe(1);
    pair.hub.payloadBytesMax = MiB;
    await catchUp(pair);
    expect(pair.followerLog.newestOffset).toBe(9);
    await pair.stop();
  });
});
