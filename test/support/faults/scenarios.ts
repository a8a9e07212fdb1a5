import * as grpc from '@grpc/grpc-js';
import { call } from '../api-calls';
import { waitFor } from '../ports';
import { FaultCluster } from './fault-cluster';
import { ProxyMode } from './fault-proxy';
import { FaultScenario } from './fault-scenario';
import { ScenarioFigures } from './figures';
import { CheckReport } from './history-checker';

/**
 * The scenarios of docs/reliability.md as functions, shared by the PR tier (test/integration/faults)
 * and the long tier (test/faults, `npm run test:faults`, more cycles). Each runs the workload,
 * injects its fault `cycles` times, heals, and returns the checker's report and the figures; the
 * spec asserts the expected outcome.
 */
export interface ScenarioOutcome {
  readonly report: CheckReport;
  readonly figures: ScenarioFigures;
}

/** Cycles of each scenario: 1 in the PR tier, FAULTS_CYCLES (default 3) in the long tier. */
export const cycles = (): number => Number(process.env.FAULTS_CYCLES ?? (process.env.FAULTS_TIER === 'long' ? 3 : 1));

const elapsed = (s: FaultScenario, since: number, ms: number, what: string): Promise<void> => waitFor(() => s.now() - since > ms, ms + 10_000, what);
const max = (values: readonly number[]): number => Math.round(Math.max(0, ...values));

/** Whose link: partition 0's leader, one or both of its followers, or the controller. */
export type LinkTarget = 'leader' | 'follower' | 'followers' | 'controller';

async function targets(s: FaultScenario, which: LinkTarget): Promise<string[]> {
  const meta = await s.partition(0);
  if (which === 'leader') return [meta.leader];
  if (which === 'follower') return [await s.follower(0)];
  if (which === 'followers') return meta.replicas.filter((id) => id !== meta.leader);
  const controller = s.views.controller();
  if (!controller) throw new Error('no controller found in the logs');
  return [controller];
}

/**
 * Cuts one broker's NATS link (scenarios 14 and 17): `mode` on its proxy for `faultMs`, then pass.
 * A blackholed connection stays dead after the heal until the broker's NATS client misses its PINGs.
 */
export async function linkFault(cluster: FaultCluster, name: string, which: LinkTarget, mode: ProxyMode, faultMs: number): Promise<ScenarioOutcome & { victims: string[] }> {
  const s = await FaultScenario.begin(cluster, name);
  const blocked: number[] = [];
  const recovered: number[] = [];
  const rejoined: number[] = [];
  const victims: string[] = [];
  for (let i = 0; i < cycles(); i++) {
    const cut = await targets(s, which);
    victims.push(cut.join('+'));
    const faultAt = s.now();
    for (const id of cut) cluster.proxies.get(id)!.setMode(mode);
    await elapsed(s, faultAt, faultMs, `the ${mode.kind} of ${cut.join(', ')}`);
    const healAt = s.now();
    for (const id of cut) cluster.proxies.get(id)!.setMode({ kind: 'pass' });
    await s.views.waitQuiescent(s.streams, 120_000);
    rejoined.push(s.now() - healAt);
    await s.waitWritesFlowing(s.now(), 30_000);
    blocked.push(s.blockedMs(faultAt, healAt));
    recovered.push(s.recoveredMs(healAt) ?? Number.NaN);
  }
  const report = await s.finish();
  const figures = s.record(`${mode.kind} the ${which}'s NATS link ${faultMs / 1000} s, heal`, report, { recoverMs: max(recovered), allBlockedMs: max(blocked) }, {
    cycles: cycles(), victims: victims.join(','), fullIsrAfterHealMs: max(rejoined),
  });
  return { report, figures, victims };
}

/**
 * Scenario 10: SIGSTOP a follower for `pauseMs`, SIGCONT. Figures: time to leave the ISR, to rejoin,
 * ALL blocked. A follower that is also the controller leaves the ISR only once a new controller
 * records the shrink, so `controller` picks one that is (`prefer`) or is not (`avoid`, the default).
 */
export async function pausedFollower(
  cluster: FaultCluster,
  name: string,
  pauseMs: number,
  controller: 'avoid' | 'prefer' = 'avoid',
): Promise<ScenarioOutcome & { shrunkMs: number[] }> {
  const s = await FaultScenario.begin(cluster, name);
  const shrunk: number[] = [];
  const blocked: number[] = [];
  const rejoined: number[] = [];
  const recovered: number[] = [];
  for (let i = 0; i < cycles(); i++) {
    const meta = await s.partition(i % 3);
    const followers = meta.replicas.filter((id) => id !== meta.leader);
    const isController = (id: string): boolean => id === s.views.controller();
    const follower = followers.find((id) => isController(id) === (controller === 'prefer')) ?? followers[0]!;
    const faultAt = s.now();
    cluster.pause(follower);
    await waitFor(async () => !(await s.partition(i % 3)).isr.includes(follower), pauseMs + 20_000, `${follower} to leave the ISR`);
    shrunk.push(s.now() - faultAt);
    await elapsed(s, faultAt, pauseMs, `the pause of ${follower}`);
    const healAt = s.now();
    cluster.resume(follower);
    await s.views.waitQuiescent(s.streams, 30_000);
    rejoined.push(s.now() - healAt);
    blocked.push(s.blockedMs(faultAt, healAt));
    recovered.push(s.recoveredMs(healAt) ?? Number.NaN);
  }
  const report = await s.finish();
  const figures = s.record(`SIGSTOP a follower${controller === 'prefer' ? ' that is the controller' : ''} ${pauseMs / 1000} s`, report, { recoverMs: max(recovered), allBlockedMs: max(blocked) }, {
    cycles: cycles(), leftIsrMs: max(shrunk), fullIsrAfterResumeMs: max(rejoined),
  });
  return { report, figures, shrunkMs: shrunk };
}

/**
 * Scenario 11: SIGSTOP the leader of partition 0 for `pauseMs` (> the leader timeout) while the raw
 * NATS publisher keeps queueing publishes on its subscription; SIGCONT. Figures: failover, step-down.
 */
export async function zombieLeader(cluster: FaultCluster, name: string, pauseMs: number): Promise<ScenarioOutcome & { stepDownMs: number[] }> {
  const s = await FaultScenario.begin(cluster, name);
  const failover: number[] = [];
  const stepDown: number[] = [];
  const blocked: number[] = [];
  const recovered: number[] = [];
  for (let i = 0; i < cycles(); i++) {
    const victim = (await s.partition(0)).leader;
    const faultAt = s.now();
    cluster.pause(victim);
    await waitFor(async () => (await s.partition(0)).leader !== victim, 20_000, `a new leader after pausing ${victim}`);
    await s.waitWritesFlowing(s.now(), 20_000);
    failover.push(s.now() - faultAt);
    await elapsed(s, faultAt, pauseMs, `the pause of ${victim}`);
    const healAt = s.now();
    cluster.resume(victim);
    await waitFor(async () => {
      const answer = await call(cluster.client(victim).fetchPartitionMetadata, cluster.client(victim), { stream: s.allStream, partition: 0 }, 1000).catch((e: grpc.ServiceError) => e);
      return (answer as grpc.ServiceError).code === grpc.status.FAILED_PRECONDITION;
    }, 15_000, `${victim} to step down`);
    stepDown.push(s.now() - healAt);
    await s.views.waitQuiescent(s.streams, 30_000);
    blocked.push(s.blockedMs(faultAt, healAt));
    recovered.push(s.recoveredMs(healAt) ?? Number.NaN);
  }
  const report = await s.finish();
  const figures = s.record(`SIGSTOP the partition leader ${pauseMs / 1000} s`, report, { recoverMs: max(recovered), allBlockedMs: max(blocked) }, {
    cycles: cycles(), failoverMs: max(failover), stepDownAfterResumeMs: max(stepDown),
  });
  return { report, figures, stepDownMs: stepDown };
}
