import { FaultCluster } from '../support/faults/fault-cluster';
import { expectClean, FaultScenario, PARTITIONS } from '../support/faults/fault-scenario';
import { MetadataSampler } from '../support/faults/metadata-sampler';
import { pausedFollower } from '../support/faults/scenarios';
import { waitFor } from '../support/ports';

/**
 * The trade-off of `clustering.replica.max.lag.time` (docs/reliability.md): a stopped follower
 * blocks every AckPolicy ALL publish of its partitions until it leaves the ISR, after the lag time;
 * a short lag time shortens that stall but drops healthy followers that pause briefly. Measured
 * for 15 s (the default), 3 s and 1 s: the ALL stall with a follower stopped for lag + 3 s, and the
 * ISR shrinks of 10 s of normal load (spurious: nothing was wrong).
 */
const LAGS_MS = (process.env.FAULTS_LAGS_MS ?? '15000,3000,1000').split(',').map(Number);

describe('replica.max.lag.time end to end', () => {
  for (const lagMs of LAGS_MS) {
    it(`lag time ${lagMs / 1000} s: ALL is blocked about that long by a stopped follower`, async () => {
      const cluster = await FaultCluster.start({
        env: {
          LIFTBRIDGE_CLUSTERING_REPLICA_MAX_LAG_TIME: `${lagMs}ms`,
          LIFTBRIDGE_CLUSTERING_REPLICA_MAX_IDLE_WAIT: `${Math.min(1000, lagMs / 2)}ms`,
        },
      });
      try {
        // Spurious shrinks under normal load, no fault.
        const quiet = await FaultScenario.begin(cluster, 'quiet');
        const sampler = new MetadataSampler(quiet.views, Array.from({ length: PARTITIONS }, (_, p) => ({ stream: quiet.allStream, partition: p })));
        sampler.start();
        const from = quiet.now();
        await waitFor(() => quiet.now() - from > 10_000, 20_000, '10 s of load');
        await sampler.stop();
        const to = quiet.now();
        const quietReport = await quiet.finish();
        quiet.record('no fault, 10 s of load', quietReport, { recoverMs: 0, allBlockedMs: quiet.blockedMs(from, to) }, { lagMs, spuriousIsrShrinks: sampler.isrShrinks });
        expectClean(quietReport);

        const { report, figures, shrunkMs } = await pausedFollower(cluster, `lag${lagMs}`, lagMs + 3000, 'avoid');
        expectClean(report);
        // The leader checks lag every lag time / 4, then the controller records the shrink.
        const boundMs = lagMs * 1.25 + 2000;
        expect(figures.allBlockedMs).toBeGreaterThanOrEqual(lagMs - 500);
        expect(figures.allBlockedMs).toBeLessThan(boundMs);
        for (const ms of shrunkMs) expect(ms).toBeLessThan(boundMs);

        // The worst case: the stopped follower is also the controller, so the shrink waits for a new one.
        const worst = await pausedFollower(cluster, `lagc${lagMs}`, lagMs + 6000, 'prefer');
        expectClean(worst.report);
        expect(worst.figures.allBlockedMs).toBeLessThan(boundMs + 5000);
      } finally {
        await cluster.stop();
      }
    }, 300_000);
  }
});
