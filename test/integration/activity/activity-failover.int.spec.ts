import { LiftbridgeClient, StartPosition, StopPosition } from '../../../src/client';
import { decodeActivityStreamEvent } from '../../../src/protocol/api-proto';
import { BrokerProcess } from '../../support/broker-process';
import { waitFor } from '../../support/ports';
import { ProcessCluster } from '../../support/process-cluster';

/**
 * The activity stream end to end (docs/consumers.md "Activity stream"): three `liftbridge`
 * processes with `activity.stream.enabled` (`__activity` on all three), streams created, the controller killed with SIGKILL,
 * more streams created through a survivor. `__activity` then holds every creation exactly once
 * after dropping repeated ids (a repeat is allowed across the failover), in the order of the
 * metadata log (ids increase).
 */
const ids = ['a', 'b', 'c'] as const;
type Id = (typeof ids)[number];
const env = { ...process.env, LIFTBRIDGE_ACTIVITY_STREAM_ENABLED: 'true' };

let cluster: ProcessCluster<Id>;
let client: LiftbridgeClient;

/** The server whose latest controller transition says it leads (its pino log lines). */
function controller(): Id | undefined {
  for (const [id, broker] of cluster.running) {
    const transitions = (broker as BrokerProcess).logs
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { msg?: string }).msg)
      .filter((m) => m === 'this server is now the controller' || m === 'this server is no longer the controller');
    if (transitions.at(-1) === 'this server is now the controller') return id;
  }
  return undefined;
}

async function activityFullyReplicated(): Promise<boolean> {
  try {
    const metadata = await client.fetchMetadata(['__activity']);
    const stream = metadata.streamMetadata.find((s) => s.name === '__activity' && s.error === 0);
    return stream?.partitions[0]?.isr.length === 3;
  } catch {
    return false;
  }
}

/** `__activity` from the start to its newest record: [id, op, stream] per record. */
async function activity(): Promise<[bigint, number, string][]> {
  const events: [bigint, number, string][] = [];
  const subscription = client.subscribe('__activity', { startPosition: StartPosition.EARLIEST, stopPosition: StopPosition.STOP_LATEST });
  for await (const message of subscription) {
    const event = decodeActivityStreamEvent(message.value!);
    events.push([BigInt(event.id ?? 0), event.op ?? 0, event.createStreamOp?.stream ?? '']);
  }
  return events;
}

async function createStream(name: string): Promise<void> {
  await waitFor(
    async () => {
      try {
        await client.createStream(name, name);
        return true;
      } catch (error) {
        return String(error).includes('already exists');
      }
    },
    20_000,
    `stream ${name} created`,
  );
}

beforeAll(async () => {
  cluster = await ProcessCluster.create(ids, 'act');
  // The group forms first (seed, then joins); restarted together with the activity stream on, the
  // first controller finds all three voters and creates __activity on every server.
  for (const id of ids) await cluster.start(id);
  for (const id of ids) await cluster.running.get(id)!.stop();
  await Promise.all(ids.map((id) => cluster.start(id, env)));
  client = await LiftbridgeClient.connect({
    servers: ids.map((id) => cluster.running.get(id)!.address),
    retry: { attempts: 60, backoffMs: 100, maxBackoffMs: 500 },
    rpcTimeoutMs: 5000,
  });
  await waitFor(activityFullyReplicated, 40_000, '__activity created on all three servers');
}, 60_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

describe('the activity stream on a three-server cluster', () => {
  it('reports every stream creation once (after dropping repeated ids), in log order, across a kill -9 of the controller', async () => {
    await createStream('before1');
    await createStream('before2');
    await waitFor(() => controller() !== undefined, 10_000, 'a controller');
    const victim = controller()!;
    await cluster.running.get(victim)!.kill();
    cluster.running.delete(victim);
    await waitFor(() => controller() !== undefined, 20_000, `a new controller after killing ${victim}`);
    await createStream('after1');
    await createStream('after2');

    const wanted = ['__activity', 'before1', 'before2', 'after1', 'after2'];
    let events: [bigint, number, string][] = [];
    await waitFor(
      async () => {
        events = await activity().catch(() => []);
        const created = new Set(events.filter(([, op]) => op === 0).map(([, , stream]) => stream));
        return wanted.every((name) => created.has(name));
      },
      30_000,
      'every creation on __activity',
    );
    const seen = new Set<bigint>();
    const unique = events.filter(([id]) => (seen.has(id) ? false : (seen.add(id), true)));
    const order = unique.map(([id]) => id);
    expect(order).toEqual([...order].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    expect(unique.filter(([, op]) => op === 0).map(([, , stream]) => stream)).toEqual(wanted);
  });
});
