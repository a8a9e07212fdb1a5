import { AckPolicy, LiftbridgeClient, groupCursorId } from '../../../src/client';
import { GroupMemberProcess } from '../../support/group-member';
import { ProcessCluster } from '../../support/process-cluster';
import { waitFor } from '../../support/wait-for';

/**
 * Consumer groups through failures, against real processes (docs/consumers.md "Consumer groups"):
 * three `liftbridge` servers on a nats-server, a 6-partition stream replicated on all three, and
 * three group members, each a process of its own (test/support/group-member-process.ts), while
 * the test publishes with AckPolicy ALL throughout. A member is killed with SIGKILL: the other two
 * take its partitions after the consumer timeout. The group's coordinator is killed with
 * SIGKILL: the members report it, a new coordinator is chosen within the coordinator timeout
 * + 2 s, and consumption goes on. Every acknowledged message is then read by some member, each
 * member reads each partition in order, and a fresh member started after the others left resumes
 * from the group's cursors with no gap.
 */
const ids = ['a', 'b', 'c'] as const;
type Id = (typeof ids)[number];
const STREAM = 'orders';
const GROUP = 'billing';
const PARTITIONS = 6;
const CONSUMER_TIMEOUT_MS = 3000;
const COORDINATOR_TIMEOUT_MS = 3000;
const CHECKPOINT_EVERY_MS = 250;
/** Between two publishes: a steady trickle that leaves the two shared cores to the servers. */
const PUBLISH_PAUSE_MS = 15;
const env = {
  ...process.env,
  LIFTBRIDGE_CURSORS_STREAM_PARTITIONS: '2',
  LIFTBRIDGE_CURSORS_STREAM_REPLICATION_FACTOR: '3',
  LIFTBRIDGE_GROUPS_CONSUMER_TIMEOUT: `${CONSUMER_TIMEOUT_MS}ms`,
  LIFTBRIDGE_GROUPS_COORDINATOR_TIMEOUT: `${COORDINATOR_TIMEOUT_MS}ms`,
  // A killed server leaves the ISRs (so ALL acks resume) and its leaders move within a few seconds.
  LIFTBRIDGE_CLUSTERING_REPLICA_MAX_LAG_TIME: '3s',
  LIFTBRIDGE_CLUSTERING_REPLICA_MAX_IDLE_WAIT: '1s',
  LIFTBRIDGE_CLUSTERING_BROKER_TIMEOUT: '1500ms',
  LIFTBRIDGE_CLUSTERING_BROKER_HEARTBEAT_INTERVAL: '250ms',
};

interface Acked {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

let cluster: ProcessCluster<Id>;
let client: LiftbridgeClient;
const members: GroupMemberProcess[] = [];
const acked: Acked[] = [];
let publishing = false;
let publisher: Promise<void> = Promise.resolve();

function startMember(consumerId: string): GroupMemberProcess {
  const member = GroupMemberProcess.spawn({
    servers: [...cluster.running.values()].map((broker) => broker.address),
    groupId: GROUP,
    consumerId,
    streams: [STREAM],
    checkpointEveryMs: CHECKPOINT_EVERY_MS,
  });
  members.push(member);
  return member;
}

/** Publishes `m<i>` to partition i mod 6 with AckPolicy ALL until told to stop; only acked messages count. */
function startPublishing(): void {
  publishing = true;
  publisher = (async () => {
    for (let i = 0; publishing; i++) {
      const partition = i % PARTITIONS;
      const value = `m${i}`;
      try {
        const ack = await client.publish(STREAM, value, { partition, ackPolicy: AckPolicy.ALL, timeoutMs: 3000 });
        acked.push({ partition, offset: Number(ack!.offset), value });
      } catch {
        // Not acknowledged (a server was killed under it): nothing is expected of it.
      }
      await new Promise((resolve) => setTimeout(resolve, PUBLISH_PAUSE_MS));
    }
  })();
}

async function stopPublishing(): Promise<void> {
  publishing = false;
  await publisher;
}

/** The newest acked offset of each partition now (-1 when none). */
function ackedFrontier(): number[] {
  const frontier = Array.from({ length: PARTITIONS }, () => -1);
  for (const a of acked) frontier[a.partition] = Math.max(frontier[a.partition]!, a.offset);
  return frontier;
}

/** Whether one of `readers` received a message of `partition` above `offset`. */
const readPast = (readers: readonly GroupMemberProcess[], partition: number, offset: number): boolean =>
  readers.some((m) => m.messages.some((x) => x.partition === partition && x.offset > offset));

const partitionOf = (assigned: string): number => Number(assigned.split('/')[1]);

/** Rethrows a wait's timeout with what each member process had done by then. */
function explain(error: unknown): never {
  const state = members.map((m) => `${m.consumerId}: ${m.running ? 'running' : 'exited'}, [${m.assigned.join(',')}], ${m.messages.length} messages ${m.stderr}`);
  throw new Error(`${String(error)}\n${state.join('\n')}`);
}

async function coordinator(): Promise<string | null> {
  try {
    return (await client.fetchGroupMetadata(GROUP))?.coordinator ?? null;
  } catch {
    return null;
  }
}

async function streamReady(): Promise<boolean> {
  try {
    const metadata = await client.fetchMetadata([STREAM, '__cursors']);
    return metadata.streamMetadata.every(
      (s) => s.error === 0 && Object.values(s.partitions).length > 0 && Object.values(s.partitions).every((p) => p.leader !== '' && p.isr.length === 3),
    );
  } catch {
    return false;
  }
}

beforeAll(async () => {
  cluster = await ProcessCluster.create(ids, 'grp');
  for (const id of ids) await cluster.start(id, env);
  client = await LiftbridgeClient.connect({
    servers: ids.map((id) => cluster.running.get(id)!.address),
    retry: { attempts: 30, backoffMs: 100, maxBackoffMs: 500 },
    rpcTimeoutMs: 3000,
  });
  await waitFor(
    () => client.createStream(STREAM, STREAM, { partitions: PARTITIONS, replicationFactor: 3 }).then(() => true, (e) => String(e).includes('already exists')),
    20_000,
    `stream ${STREAM} created`,
  );
  await waitFor(streamReady, 30_000, `${STREAM} and __cursors led, with full ISRs`);
}, 60_000);

afterAll(async () => {
  publishing = false;
  for (const member of members) await member.kill();
  client?.close();
  await cluster?.stop();
});

describe('a consumer group on three server processes, through a member kill and a coordinator kill', () => {
  it('moves partitions, fails the coordinator over, reads every acked message in order, and resumes from the cursors', async () => {
    startPublishing();
    // (a) Three members share the six partitions, two each.
    const [m1, m2, m3] = [startMember('m1'), startMember('m2'), startMember('m3')] as [GroupMemberProcess, GroupMemberProcess, GroupMemberProcess];
    const trio = [m1, m2, m3];
    await waitFor(
      () => trio.every((m) => m.assigned.length === 2) && new Set(trio.flatMap((m) => m.assigned)).size === PARTITIONS,
      30_000,
      'three members with two partitions each',
    ).catch(explain);
    const before = ackedFrontier();
    await waitFor(() => before.every((offset, p) => readPast(trio, p, offset)), 15_000, 'all three members reading').catch(explain);

    // (b) kill -9 of a member: its partitions go to the other two after the consumer timeout.
    const survivors = [m1, m2];
    const orphaned = m3.assigned.map(partitionOf);
    await m3.kill();
    const atMemberKill = ackedFrontier();
    await waitFor(
      () => orphaned.every((p) => readPast(survivors, p, atMemberKill[p]!)),
      CONSUMER_TIMEOUT_MS + 15_000,
      `partitions ${orphaned.join(',')} of the killed member read by the survivors`,
    ).catch(explain);
    // A member re-subscribes its partitions one by one after an epoch change: poll until the survivors hold all six.
    await waitFor(() => new Set(survivors.flatMap((m) => m.assigned)).size === PARTITIONS, 10_000, 'the survivors holding all six partitions').catch(explain);

    // (c) kill -9 of the group's coordinator: a new one within the coordinator timeout + 2 s, and reading goes on.
    const oldCoordinator = (await coordinator()) as Id | null;
    expect(ids).toContain(oldCoordinator);
    await cluster.running.get(oldCoordinator!)!.kill();
    cluster.running.delete(oldCoordinator!);
    const atBrokerKill = ackedFrontier();
    const newCoordinator = await waitFor(
      async () => {
        const current = await coordinator();
        return current !== null && current !== oldCoordinator ? current : null;
      },
      COORDINATOR_TIMEOUT_MS + 2000,
      `a coordinator other than ${oldCoordinator}`,
    ).catch(explain);
    expect(ids.filter((id) => id !== oldCoordinator)).toContain(newCoordinator);
    await waitFor(
      () => atBrokerKill.every((offset, p) => readPast(survivors, p, offset)),
      30_000,
      'every partition read past the coordinator kill',
    ).catch(explain);

    // The survivors leave gracefully (checkpointing what they were handed); the group's cursors then say where they stopped.
    const lastBeforeStop = ackedFrontier();
    await waitFor(() => lastBeforeStop.every((offset, p) => readPast(survivors, p, offset - 1)), 20_000, 'survivors caught up').catch(explain);
    await Promise.all(survivors.map((m) => m.stop()));
    expect(survivors.map((m) => m.closed)).toEqual([true, true]);
    const checkpoints: number[] = [];
    for (let p = 0; p < PARTITIONS; p++) checkpoints.push(Number(await client.fetchCursor({ id: groupCursorId(GROUP), stream: STREAM, partition: p })));

    // A fresh member resumes from those cursors with no gap.
    const fresh = startMember('m4');
    await waitFor(() => fresh.assigned.length === PARTITIONS, 20_000, 'the fresh member takes all six partitions').catch(explain);
    await waitFor(() => fresh.messages.length > 0, 15_000, 'the fresh member reading').catch(explain);
    await stopPublishing();
    const final = ackedFrontier();
    await waitFor(() => final.every((offset, p) => offset <= checkpoints[p]! || readPast([fresh], p, offset - 1)), 20_000, 'the fresh member read every acked message').catch(explain);

    for (let p = 0; p < PARTITIONS; p++) {
      const first = fresh.messages.find((m) => m.partition === p);
      if (first !== undefined) expect({ p, first: first.offset <= checkpoints[p]! + 1 }).toEqual({ p, first: true });
      const seen = new Set(fresh.messages.filter((m) => m.partition === p).map((m) => m.offset));
      const missed = acked.filter((a) => a.partition === p && a.offset > checkpoints[p]! && !seen.has(a.offset));
      expect({ p, missed }).toEqual({ p, missed: [] });
    }

    // Over the whole run: every acked message read by some member, with its value; each member read
    // each partition in order within each stretch of owning it (one that lost a partition and got
    // it back reads again from the group's cursor: at-least-once).
    const read = new Map<string, string>();
    for (const m of members) for (const x of m.messages) read.set(`${x.partition}:${x.offset}`, x.value);
    const unread = acked.filter((a) => read.get(`${a.partition}:${a.offset}`) !== a.value);
    expect(unread).toEqual([]);
    for (const m of members) {
      for (let p = 0; p < PARTITIONS; p++) {
        const ofPartition = m.messages.filter((x) => x.partition === p);
        const outOfOrder = ofPartition.filter((x, i) => i > 0 && x.stretch === ofPartition[i - 1]!.stretch && x.offset <= ofPartition[i - 1]!.offset).map((x) => x.offset);
        expect({ member: m.consumerId, p, outOfOrder }).toEqual({ member: m.consumerId, p, outOfOrder: [] });
      }
    }
    expect(acked.length).toBeGreaterThan(100);
  }, 90_000);
});
