import { FaultCluster } from '../../support/faults/fault-cluster';
import { expectClean, FaultScenario } from '../../support/faults/fault-scenario';
import { waitFor } from '../../support/ports';

/**
 * NATS partitions through the fault proxies (docs/reliability.md, scenarios 14 and 17 on topology A).
 */
let cluster: FaultCluster;

beforeAll(async () => {
  cluster = await FaultCluster.start();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('NATS partitions (fault suite)', () => {
  it('a partition leader cut off from NATS (half-open: blackholed) is replaced; after healing it notices by PING, rejoins and has acked nothing twice', async () => {
    const s = await FaultScenario.begin(cluster, 'bhl');
    const victim = (await s.partition(0)).leader;
    const faultAt = s.now();
    cluster.proxies.get(victim)!.setMode({ kind: 'blackhole' });
    await waitFor(async () => (await s.partition(0)).leader !== victim, 15_000, `a new leader for ${victim}'s partition`);
    const failoverMs = s.now() - faultAt;
    await s.waitWritesFlowing(s.now(), 10_000);
    const writesBackMs = s.now() - faultAt;
    await waitFor(() => s.now() - faultAt > 8000, 10_000, 'the partition to last 8 s');
    const healAt = s.now();
    cluster.proxies.get(victim)!.setMode({ kind: 'pass' });
    await waitFor(async () => (await s.partition(0)).isr.includes(victim), 90_000, `${victim} back in the ISR`);
    const rejoinMs = s.now() - healAt;
    const report = await s.finish();
    s.record('blackhole the partition leader\'s NATS link 8 s, heal', report, { recoverMs: s.recoveredMs(healAt), allBlockedMs: s.blockedMs(faultAt, healAt) }, {
      failoverMs: Math.round(failoverMs), writesBackMs: Math.round(writesBackMs), rejoinAfterHealMs: Math.round(rejoinMs),
    });
    expectClean(report);
  }, 180_000);
});
