import { useFaultCluster } from '../../support/faults/fault-cluster';
import { expectClean } from '../../support/faults/fault-scenario';
import { pausedFollower, zombieLeader } from '../../support/faults/scenarios';

/**
 * SIGSTOP of brokers (docs/reliability.md, scenarios 10 and 11), fast-fault configuration
 * (replica.max.lag.time 3 s, broker timeout 3 s). PR tier: one cycle each; `npm run test:faults`
 * runs FAULTS_CYCLES (3) cycles.
 */
const LAG_MS = 3000;
const cluster = useFaultCluster();

describe('SIGSTOP (fault suite)', () => {
  it('a paused follower leaves the ISR within lag time + 2 s, ALL publishes are blocked no longer than that, and it rejoins after SIGCONT', async () => {
    const { report, figures, shrunkMs } = await pausedFollower(cluster(), 'pf', 2 * LAG_MS);
    expectClean(report);
    for (const ms of shrunkMs) expect(ms).toBeLessThan(LAG_MS + 2000);
    expect(figures.allBlockedMs).toBeLessThan(LAG_MS + 2000);
  }, 300_000);

  it('a paused partition leader (zombie) is replaced; after SIGCONT it steps down within 2 s, truncates, and acknowledges nothing twice', async () => {
    const { report, stepDownMs } = await zombieLeader(cluster(), 'zl', 3 * LAG_MS);
    expectClean(report); // includes C13 (double ack) and C10 (dirty read)
    for (const ms of stepDownMs) expect(ms).toBeLessThan(2000);
  }, 300_000);
});
