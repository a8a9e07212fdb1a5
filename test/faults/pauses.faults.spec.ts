import { useFaultCluster } from '../support/faults/fault-cluster';
import { expectClean, FaultScenario, PARTITIONS } from '../support/faults/fault-scenario';
import { MetadataSampler } from '../support/faults/metadata-sampler';
import { waitFor } from '../support/ports';

/**
 * Long tier of SIGSTOP faults (docs/reliability.md): the paused metadata leader (scenario 12) and a
 * pause storm below the timeouts (scenario 13: every 1-3 s a random broker stopped 100-1500 ms).
 */
const cluster = useFaultCluster();

describe('SIGSTOP, long tier', () => {
  it('the controller stopped 10 s: a new controller; stream admin works; nothing acknowledged is lost', async () => {
    const s = await FaultScenario.begin(cluster(), 'pc');
    const victim = s.views.controller()!;
    const faultAt = s.now();
    cluster().pause(victim);
    await waitFor(() => s.views.controller() !== victim && s.views.controller() !== undefined, 20_000, 'a new controller');
    const newControllerMs = Math.round(s.now() - faultAt);
    await waitFor(() => s.now() - faultAt > 10_000, 20_000, '10 s');
    const healAt = s.now();
    cluster().resume(victim);
    await s.waitWritesFlowing(healAt, 30_000);
    const report = await s.finish();
    s.record('SIGSTOP the controller 10 s', report, { recoverMs: s.recoveredMs(healAt), allBlockedMs: s.blockedMs(faultAt, healAt) }, { victim, newControllerMs });
    expectClean(report);
  }, 900_000);

  it('a pause storm below the timeouts (60 s): no acknowledged loss, few leader changes', async () => {
    const s = await FaultScenario.begin(cluster(), 'storm');
    const sampler = new MetadataSampler(s.views, Array.from({ length: PARTITIONS }, (_, p) => ({ stream: s.allStream, partition: p })));
    sampler.start();
    const faultAt = s.now();
    // A fixed seed: the same storm every run.
    let seed = 42;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let pauses = 0;
    while (s.now() - faultAt < 60_000) {
      const victim = cluster().ids[Math.floor(random() * cluster().ids.length)]!;
      const pauseMs = 100 + random() * 1400;
      cluster().pause(victim);
      pauses++;
      const stoppedAt = s.now();
      await waitFor(() => s.now() - stoppedAt > pauseMs, pauseMs + 5000, 'the pause');
      cluster().resume(victim);
      const gapMs = 1000 + random() * 2000;
      const resumedAt = s.now();
      await waitFor(() => s.now() - resumedAt > gapMs, gapMs + 5000, 'the gap');
    }
    const healAt = s.now();
    await s.waitWritesFlowing(healAt, 30_000);
    const report = await s.finish();
    await sampler.stop();
    s.record('pause storm 60 s (random broker, 100-1500 ms every 1-3 s)', report, { recoverMs: s.recoveredMs(healAt), allBlockedMs: s.blockedMs(faultAt, healAt) }, {
      pauses, isrShrinks: sampler.isrShrinks, leaderChanges: sampler.leaderChanges,
    });
    expectClean(report);
    // Plan target: at most one leader change per partition per minute.
    expect(sampler.leaderChanges).toBeLessThanOrEqual(PARTITIONS);
  }, 900_000);
});
