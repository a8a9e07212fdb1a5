import { LiftbridgeClient } from '../../src/client';
import { GroupMemberProcess, memberCommand, memberWorkingDirectory } from '../../test/support/group-member';
import type { ManagedChild } from '../support/children';
import { pollUntil } from '../support/deadline';
import { BENCH_GROUP_CONSUMER_TIMEOUT_MS } from '../support/liftbridge-server';
import { median } from '../support/stats';
import type { BenchCase, BenchContext } from '../types';

const PARTITIONS = 6;
const MEMBERS = 3;
/** Between two publishes: a steady stream on every partition that leaves CPU to the member processes. */
const PUBLISH_PAUSE_MS = 5;
const SETTLE_MS = 60_000;

const partitionOf = (assigned: string): number => Number(assigned.split('/')[1]);

/** Publishes `size`-byte values to partition i mod 6 (AckPolicy LEADER, the default) until `stop` is called. */
function publishContinuously(client: LiftbridgeClient, stream: string, size: number): { stop(): Promise<void> } {
  let running = true;
  const value = Buffer.alloc(size, 'x');
  const loop = (async () => {
    for (let i = 0; running; i++) {
      await client.publish(stream, value, { partition: i % PARTITIONS }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, PUBLISH_PAUSE_MS));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Three members on six partitions, two each, each reading every partition it holds. */
async function settled(members: readonly GroupMemberProcess[], since: number): Promise<void> {
  await pollUntil(
    () =>
      members.every((m) => m.assigned.length === PARTITIONS / MEMBERS) &&
      new Set(members.flatMap((m) => m.assigned)).size === PARTITIONS &&
      members.every((m) => m.assigned.every((a) => m.messages.some((x) => x.partition === partitionOf(a) && x.atMs > since))),
    SETTLE_MS,
    `${MEMBERS} members reading ${PARTITIONS / MEMBERS} partitions each (${members.map((m) => `${m.consumerId} [${m.assigned.join(',')}] ${m.stderr.slice(-300)}`).join('; ')})`,
    50,
  );
}

/**
 * Per partition of the killed member, ms from its SIGKILL until a survivor received a message of it.
 * The survivors did not hold those partitions (the assignment was settled), so any such message
 * came after the coordinator expired the dead member and they polled the new assignment.
 */
async function timesToReadAgain(victim: GroupMemberProcess, survivors: readonly GroupMemberProcess[]): Promise<number[]> {
  const orphaned = victim.assigned.map(partitionOf);
  const killedAt = Date.now();
  await victim.kill();
  const first = (p: number): number | undefined =>
    survivors.flatMap((m) => m.messages.filter((x) => x.partition === p && x.atMs >= killedAt).slice(0, 1).map((x) => x.atMs)).sort((a, b) => a - b)[0];
  await pollUntil(() => orphaned.every((p) => first(p) !== undefined), 4 * BENCH_GROUP_CONSUMER_TIMEOUT_MS + 10_000, `partitions ${orphaned.join(',')} read again`, 5);
  return orphaned.map((p) => first(p)! - killedAt);
}

/** The member processes, started through the bench's child registry (stopped with the bench, killed if it dies). */
function startMembers(ctx: BenchContext, groupId: string, stream: string): { member: GroupMemberProcess; child: ManagedChild }[] {
  return Array.from({ length: MEMBERS }, (_, i) => {
    const args = { servers: [ctx.liftbridgeAddress], groupId, consumerId: `m${i + 1}`, streams: [stream], checkpointEveryMs: 1000 };
    const [command, argv] = memberCommand(args);
    const child = ctx.children.spawn(`group-member-${i + 1}`, command, argv, { cwd: memberWorkingDirectory });
    return { member: GroupMemberProcess.of(args.consumerId, child.process), child };
  });
}

/**
 * Group member death to partitions consumed again (docs/consumers.md "Consumer groups",
 * "Liveness"): three members, each a process of its own (test/support/group-member-process.ts),
 * share a 6-partition stream under a continuous publisher; one is killed with SIGKILL (no
 * checkpoint, no LeaveConsumerGroup: a silent death). Its coordinator expires it after
 * `groups.consumer.timeout` without an assignment fetch; the survivors learn the new assignment at
 * their next poll (every min(0.4 x the timeout, 500 ms), the client's default) and subscribe from
 * the group's cursors. Measured per
 * orphaned partition: the time from the kill until a survivor received its first message.
 */
export const liftbridgeGroupMemberDeathCase: BenchCase = {
  id: 'lb-group-member-death',
  title: 'liftbridge group member death -> read again',
  async run(ctx, size, run) {
    const stream = `bench-group-${size}-r${run}`;
    const client = await LiftbridgeClient.connect({ servers: [ctx.liftbridgeAddress], retry: { attempts: 30, backoffMs: 100, maxBackoffMs: 500 } });
    let started: { member: GroupMemberProcess; child: ManagedChild }[] = [];
    let publisher: { stop(): Promise<void> } | undefined;
    try {
      await client.createStream(stream, stream, { partitions: PARTITIONS });
      publisher = publishContinuously(client, stream, size);
      const startedAt = Date.now();
      started = startMembers(ctx, `bench-group-${size}-r${run}`, stream);
      const members = started.map((s) => s.member);
      await settled(members, startedAt);
      const partitionsMs = await timesToReadAgain(members[MEMBERS - 1]!, members.slice(0, MEMBERS - 1));
      const maxMs = Math.max(...partitionsMs);
      ctx.progress(`  member death -> read again: ${partitionsMs.map((ms) => `${ms} ms`).join(', ')} (consumer timeout ${BENCH_GROUP_CONSUMER_TIMEOUT_MS} ms)`);
      return {
        messages: partitionsMs.length,
        seconds: maxMs / 1000,
        p50Ms: median(partitionsMs),
        p99Ms: maxMs,
        failover: { partitionsMs, consumerTimeoutMs: BENCH_GROUP_CONSUMER_TIMEOUT_MS },
      };
    } finally {
      await publisher?.stop();
      // SIGTERM: the survivors checkpoint and leave (SIGKILL if one does not exit within 5 s).
      await Promise.all(started.map((s) => s.child.stop()));
      await client.deleteStream(stream).catch(() => undefined);
      client.close();
    }
  },
};
