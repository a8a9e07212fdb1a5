import * as grpc from '@grpc/grpc-js';
import { call } from '../../support/api-calls';
import { FaultCluster } from '../../support/faults/fault-cluster';
import { expectClean, FaultScenario } from '../../support/faults/fault-scenario';
import { waitFor } from '../../support/ports';

let cluster: FaultCluster;

beforeAll(async () => {
  cluster = await FaultCluster.start();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('SIGSTOP (fault suite, docs/reliability.md)', () => {
  it('a paused follower leaves the ISR within lag time + 2 s; ALL publishes resume; it rejoins after SIGCONT', async () => {
    const s = await FaultScenario.begin(cluster, 'pf');
    const follower = await s.follower(0);
    const faultAt = s.now();
    cluster.pause(follower);
    await waitFor(async () => !(await s.partition(0)).isr.includes(follower), 10_000, `${follower} to leave the ISR`);
    const shrunkMs = s.now() - faultAt;
    await s.waitWritesFlowing(s.now(), 10_000);
    await waitFor(() => s.now() - faultAt > 6000, 10_000, 'twice the lag time');
    const healAt = s.now();
    cluster.resume(follower);
    await waitFor(async () => (await s.partition(0)).isr.includes(follower), 15_000, `${follower} to rejoin the ISR`);
    const rejoinMs = s.now() - healAt;
    const report = await s.finish();
    const blocked = s.blockedMs(faultAt, healAt);
    s.record('SIGSTOP a follower 6 s (2x lag time)', report, { recoverMs: s.recoveredMs(healAt), allBlockedMs: blocked }, { shrunkMs: Math.round(shrunkMs), rejoinMs: Math.round(rejoinMs) });
    expectClean(report);
    expect(shrunkMs).toBeLessThan(3000 + 2000);
    expect(blocked).toBeLessThan(3000 + 2000);
  }, 120_000);

  it('a paused partition leader (zombie) is replaced, and after SIGCONT steps down at once, truncates and acks nothing twice', async () => {
    const s = await FaultScenario.begin(cluster, 'zl');
    const victim = (await s.partition(0)).leader;
    const faultAt = s.now();
    cluster.pause(victim);
    await waitFor(async () => (await s.partition(0)).leader !== victim, 15_000, `a new leader after pausing ${victim}`);
    const failoverMs = s.now() - faultAt;
    await s.waitWritesFlowing(s.now(), 10_000);
    // 3x the leader timeout: the raw NATS publisher keeps queueing publishes on the zombie's subscription.
    await waitFor(() => s.now() - faultAt > 9000, 15_000, '3x the leader timeout');
    const healAt = s.now();
    cluster.resume(victim);
    await waitFor(async () => {
      const answer = await call(cluster.client(victim).fetchPartitionMetadata, cluster.client(victim), { stream: s.allStream, partition: 0 }, 1000).catch((e: grpc.ServiceError) => e);
      return (answer as grpc.ServiceError).code === grpc.status.FAILED_PRECONDITION;
    }, 10_000, `${victim} to step down`);
    const stepDownMs = s.now() - healAt;
    await waitFor(async () => (await s.partition(0)).isr.includes(victim), 20_000, `${victim} back in the ISR`);
    const rejoinMs = s.now() - healAt;
    const report = await s.finish();
    s.record('SIGSTOP the partition leader 9 s (3x leader timeout)', report, { recoverMs: s.recoveredMs(healAt), allBlockedMs: s.blockedMs(faultAt, healAt) }, {
      failoverMs: Math.round(failoverMs), stepDownAfterResumeMs: Math.round(stepDownMs), rejoinMs: Math.round(rejoinMs),
    });
    expectClean(report);
    expect(stepDownMs).toBeLessThan(2000 + 1000);
  }, 120_000);
});
