import { useFaultCluster } from '../../support/faults/fault-cluster';
import { expectClean, FaultScenario } from '../../support/faults/fault-scenario';
import { waitFor } from '../../support/ports';

/**
 * nats-server outages (docs/reliability.md, scenario 15): nothing is acknowledged while NATS is
 * gone, and service resumes without manual action once it is back, with every ISR full again.
 */
const OUTAGE_MS = Number(process.env.FAULTS_NATS_OUTAGE_MS ?? 5000);
const cluster = useFaultCluster();

/** ALL acks completed inside (fromMs + 1 s, toMs): a publish answered in the first second may have been committed before. */
const acksDuring = (s: FaultScenario, fromMs: number, toMs: number): number =>
  s.history.attempts.filter((a) => a.result.type === 'ok' && a.completedMs > fromMs + 1000 && a.completedMs < toMs).length;

describe('nats-server outages (fault suite)', () => {
  it(`SIGSTOP of nats-server for ${OUTAGE_MS / 1000} s: no acks while it is stopped, service resumes by itself`, async () => {
    const s = await FaultScenario.begin(cluster(), 'nstop');
    const faultAt = s.now();
    cluster().pauseNats();
    await waitFor(() => s.now() - faultAt > OUTAGE_MS, OUTAGE_MS + 5000, 'the outage');
    const healAt = s.now();
    cluster().resumeNats();
    await s.waitWritesFlowing(healAt, 30_000);
    const report = await s.finish();
    const during = acksDuring(s, faultAt, healAt);
    s.record(`SIGSTOP nats-server ${OUTAGE_MS / 1000} s`, report, { recoverMs: s.recoveredMs(healAt), allBlockedMs: s.blockedMs(faultAt, healAt) }, { acksDuringOutage: during });
    expectClean(report);
    expect(during).toBe(0);
    expect(s.recoveredMs(healAt)).toBeLessThan(10_000);
  }, 180_000);

  it(`kill -9 of nats-server, restarted ${OUTAGE_MS / 1000} s later: service resumes by itself`, async () => {
    const s = await FaultScenario.begin(cluster(), 'nkill');
    const faultAt = s.now();
    await cluster().killNats();
    await waitFor(() => s.now() - faultAt > OUTAGE_MS, OUTAGE_MS + 5000, 'the outage');
    const healAt = s.now();
    await cluster().restartNats();
    await s.waitWritesFlowing(healAt, 30_000);
    const report = await s.finish();
    const during = acksDuring(s, faultAt, healAt);
    s.record(`kill -9 nats-server, restart after ${OUTAGE_MS / 1000} s`, report, { recoverMs: s.recoveredMs(healAt), allBlockedMs: s.blockedMs(faultAt, healAt) }, { acksDuringOutage: during });
    expectClean(report);
    expect(during).toBe(0);
    expect(s.recoveredMs(healAt)).toBeLessThan(10_000);
  }, 180_000);
});
