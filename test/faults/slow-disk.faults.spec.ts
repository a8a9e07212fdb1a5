import { useFaultCluster } from '../support/faults/fault-cluster';
import { expectClean, FaultScenario } from '../support/faults/fault-scenario';
import { SlowDisk } from '../support/faults/slow-disk';
import { waitFor } from '../support/ports';

/**
 * Slow disk (docs/reliability.md): a broker's writes throttled to 20 I/O operations per second for
 * 15 s (cgroup v1 blkio; every fsync costs several), first on a follower, then on the leader of
 * partition 0. Expected: nothing acknowledged is lost; a slow follower leaves the ISR after the lag
 * time and ALL publishes go on; a slow leader acks slowly (recorded: ALL blocked time).
 */
const cluster = useFaultCluster();

describe('slow disk (blkio throttle)', () => {
  for (const role of ['follower', 'leader'] as const) {
    it(`a ${role} whose disk does 20 writes/s for 15 s: nothing acknowledged is lost`, async () => {
      const s = await FaultScenario.begin(cluster(), `sd-${role}`);
      const victim = role === 'leader' ? (await s.partition(0)).leader : await s.follower(0);
      const disk = SlowDisk.create(`lbts-faults-${process.pid}`, cluster().dataDir(victim), 20);
      const pid = cluster().broker(victim)!.pid;
      try {
        const faultAt = s.now();
        disk.slow(pid);
        await waitFor(() => s.now() - faultAt > 15_000, 25_000, '15 s');
        const healAt = s.now();
        disk.heal(pid);
        await s.waitWritesFlowing(healAt, 30_000);
        const report = await s.finish();
        s.record(`disk of the ${role} throttled to 20 writes/s for 15 s`, report, { recoverMs: s.recoveredMs(healAt), allBlockedMs: s.blockedMs(faultAt, healAt) }, { victim });
        expectClean(report);
      } finally {
        disk.heal(pid);
        disk.destroy();
      }
    }, 900_000);
  }
});
