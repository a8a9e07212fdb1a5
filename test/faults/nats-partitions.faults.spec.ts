import { useFaultCluster } from '../support/faults/fault-cluster';
import { expectClean } from '../support/faults/fault-scenario';
import { linkFault } from '../support/faults/scenarios';

/**
 * Long tier of the NATS partitions (docs/reliability.md, scenarios 14 and 17 on topology A): a
 * follower's link, the controller's link, and one-way cuts of the leader's link, each direction.
 */
const cluster = useFaultCluster();

describe('NATS partitions, long tier', () => {
  it('a follower cut off from NATS leaves the ISR; ALL publishes go on after the lag time', async () => {
    const { report } = await linkFault(cluster(), 'bhf', 'follower', { kind: 'blackhole' }, 8000);
    expectClean(report);
  }, 900_000);

  it('the controller cut off from NATS: a new controller, no acknowledged loss', async () => {
    const { report } = await linkFault(cluster(), 'bhc', 'controller', { kind: 'blackhole' }, 8000);
    expectClean(report);
  }, 900_000);

  it('the leader hears but cannot speak (broker to NATS dropped)', async () => {
    const { report } = await linkFault(cluster(), 'bhu', 'leader', { kind: 'blackhole-up' }, 8000);
    expectClean(report);
  }, 900_000);

  it('the leader speaks but cannot hear (NATS to broker dropped): its followers report it, it is replaced, also when it is the controller', async () => {
    const { report, figures } = await linkFault(cluster(), 'bhd', 'leader', { kind: 'blackhole-down' }, 8000);
    expectClean(report);
    // Leader timeout 3 s, the fetch timeout's 1 s grain, the change through Raft, the publishers'
    // 1 s deadline grain: 4.3-4.7 s measured; before the followers' reports, 40.7 s.
    expect(figures.allBlockedMs).toBeLessThan(3000 + 4000);
  }, 900_000);

  it('both followers throttled to 2 KB/s for 20 s (scenario 19): ALL publishes stop with the ISR below minIsr, nothing is lost', async () => {
    const { report } = await linkFault(cluster(), 'thr', 'followers', { kind: 'throttle', bytesPerSecond: 2048 }, 20_000);
    expectClean(report);
  }, 900_000);

  it('the leader\'s link delayed by 300 ms for 10 s', async () => {
    const { report } = await linkFault(cluster(), 'dly', 'leader', { kind: 'delay', ms: 300 }, 10_000);
    expectClean(report);
  }, 900_000);
});
