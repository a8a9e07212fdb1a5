import { ControlledShutdown, ControlledShutdownReport } from '../../../../src/application/cluster/controlled-shutdown';
import { createStream } from '../../../support/metadata-mothers';
import { TestServer, twoServers } from './cluster-fixtures';
import { VirtualTime } from '../../../support/virtual-time';
import { waitForVirtual } from '../../../support/wait-for';

const BUDGET_MS = 5000;

/** Starts `server`'s controlled shutdown and lets virtual time run until it reports. */
async function shutDown(server: TestServer, time: VirtualTime, interrupt = new AbortController().signal): Promise<ControlledShutdownReport> {
  let report: ControlledShutdownReport | null = null;
  void server.container.get(ControlledShutdown).run(BUDGET_MS, interrupt).then((r) => (report = r));
  return waitForVirtual(time, () => report, 2 * BUDGET_MS, 'the controlled shutdown to report');
}

/** Controller a and broker b; stream s1 is led by a, s2 by b (least leader-loaded), both on both. */
async function cluster() {
  const world = await twoServers();
  world.a.role.start();
  await world.time.advance(0);
  for (const name of ['s1', 's2']) {
    const created = await world.a.metadata.execute(createStream(name, { replicationFactor: 2 }));
    if (!created.ok) throw new Error(`could not create ${name}`);
  }
  world.followerLog.deliver();
  const leaders = ['s1', 's2'].map((name) => world.a.metadata.state.streams.get(name)!.partitions[0]!.leader);
  expect(leaders).toEqual(['a', 'b']);
  return world;
}

const partition = (server: TestServer, stream: string) => server.metadata.state.streams.get(stream)!.partitions[0]!;

describe('ControlledShutdown', () => {
  it('a non-controller hands its leaderships over, leaves the ISRs it follows and is recorded unreachable, in one entry', async () => {
    const { a, b, time, leaderLog, followerGroup } = await cluster();
    const entriesBefore = leaderLog.stored.length;
    const report = await shutDown(b, time);
    expect(report).toMatchObject({ skipped: null, handedOver: ['s2/0'], kept: [], isrsLeft: 1, controller: 'not-held', interrupted: false });
    expect(leaderLog.stored.length).toBe(entriesBefore + 1);
    for (const server of [a, b]) {
      expect([partition(server, 's1').leader, partition(server, 's1').isr]).toEqual(['a', ['a']]);
      expect([partition(server, 's2').leader, partition(server, 's2').isr]).toEqual(['a', ['a']]);
      expect(server.metadata.state.brokers.get('b')!.reachable).toBe(false);
    }
    expect(followerGroup.transferCalls).toEqual([]);
  });

  it('the controller also hands the metadata group to another voter', async () => {
    const { a, b, time, leaderGroup } = await cluster();
    const report = await shutDown(a, time);
    expect(report).toMatchObject({ handedOver: ['s1/0'], isrsLeft: 1, controller: 'handed-over', newController: 'b', interrupted: false });
    expect(leaderGroup.transferCalls).toEqual([null]);
    expect(partition(b, 's1').leader).toBe('b');
  });

  it('keeps trying to hand the controller role over until the deadline, then reports it kept', async () => {
    const { a, time, leaderGroup } = await cluster();
    leaderGroup.transferOutcome = 'nothing'; // the target never wins
    const report = await shutDown(a, time);
    expect(report).toMatchObject({ controller: 'kept', interrupted: true });
    expect(report.elapsedMs).toBeGreaterThanOrEqual(BUDGET_MS);
    expect(leaderGroup.transferCalls.length).toBe(BUDGET_MS / 1000);
  });

  it('stops at once when interrupted (a second SIGTERM)', async () => {
    const { b, time } = await cluster();
    const interrupt = new AbortController();
    interrupt.abort();
    const report = await shutDown(b, time, interrupt.signal);
    expect(report).toMatchObject({ interrupted: true, handedOver: [], kept: ['s2/0'] });
    expect(partition(b, 's2').leader).toBe('b');
  });

  it('does nothing in a cluster of one', async () => {
    const { a, b, time } = await cluster();
    await a.metadata.execute({ type: 'SetBrokerReachable', data: { id: 'b', reachable: false, atNs: '1' } });
    const report = await shutDown(a, time);
    expect(report).toMatchObject({ skipped: 'no other reachable server', handedOver: [], controller: 'kept' });
    expect(b.metadata.state.brokers.get('a')!.reachable).toBe(true);
  });
});
