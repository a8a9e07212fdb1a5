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
});
