import { useFaultCluster } from '../support/faults/fault-cluster';
import { expectClean, FaultScenario, PARTITIONS } from '../support/faults/fault-scenario';
import { MetadataSampler } from '../support/faults/metadata-sampler';
import { waitFor } from '../support/ports';

/**
 * Clock jumps (docs/reliability.md, scenario 28): one broker's wall clock (CLOCK_REALTIME only, as
 * an NTP step does; libfaketime) jumps by an hour for 8 s and back. Asserted: the checker finds
 * nothing and no acknowledged record is lost. Recorded: ISR shrinks and leader changes the jump
 * caused (the server measures lag, liveness and its ack lease with Date.now), and whether a
 * follower stopped before the jump still leaves the ISR.
 */
const cluster = useFaultCluster({ clockControl: true });

type Role = 'leader' | 'follower' | 'controller';

interface Case {
  readonly role: Role;
  readonly offsetS: number;
  /** Stop a follower of partition 0 before the jump (on the leader: can it still tell it lags?). */
  readonly stopFollowerFirst?: boolean;
}

const cases: readonly Case[] = [
  { role: 'leader', offsetS: 3600 },
  { role: 'leader', offsetS: -3600 },
  { role: 'leader', offsetS: -3600, stopFollowerFirst: true },
  { role: 'follower', offsetS: 3600 },
  { role: 'follower', offsetS: -3600 },
  { role: 'controller', offsetS: 3600 },
  { role: 'controller', offsetS: -3600 },
];

async function pick(s: FaultScenario, role: Role): Promise<string> {
  if (role === 'leader') return (await s.partition(0)).leader;
  if (role === 'follower') return s.follower(0);
  return s.views.controller()!;
}

describe('clock jumps (fault suite, libfaketime)', () => {
  for (const c of cases) {
    const label = `${c.role} ${c.offsetS > 0 ? '+' : ''}${c.offsetS} s${c.stopFollowerFirst ? ', a follower stopped first' : ''}`;
    it(`${label}: nothing acknowledged is lost`, async () => {
      const s = await FaultScenario.begin(cluster(), `clk-${c.role}-${c.offsetS > 0 ? 'f' : 'b'}${c.stopFollowerFirst ? '-s' : ''}`);
      const victim = await pick(s, c.role);
      const stopped = c.stopFollowerFirst ? await s.follower(0) : null;
      const sampler = new MetadataSampler(s.views, Array.from({ length: PARTITIONS }, (_, p) => ({ stream: s.allStream, partition: p })));
      sampler.start();
      const faultAt = s.now();
      if (stopped) cluster().pause(stopped);
      cluster().jumpClock(victim, c.offsetS);
      let stoppedShrunkMs: number | null = null;
      await waitFor(async () => {
        if (stopped && stoppedShrunkMs === null && !(await s.partition(0)).isr.includes(stopped)) stoppedShrunkMs = Math.round(s.now() - faultAt);
        return s.now() - faultAt > 8000;
      }, 15_000, '8 s');
      const healAt = s.now();
      cluster().heal();
      await s.waitWritesFlowing(healAt, 30_000);
      const report = await s.finish();
      await sampler.stop();
      s.record(`wall clock of the ${label} for 8 s, then back`, report, { recoverMs: s.recoveredMs(healAt), allBlockedMs: s.blockedMs(faultAt, healAt) }, {
        victim, isrShrinks: sampler.isrShrinks, leaderChanges: sampler.leaderChanges, ...(stopped ? { stoppedFollowerShrunkMs: stoppedShrunkMs } : {}),
      });
      expectClean(report);
    }, 240_000);
  }
});
