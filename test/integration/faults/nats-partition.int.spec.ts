import { useFaultCluster } from '../../support/faults/fault-cluster';
import { expectClean } from '../../support/faults/fault-scenario';
import { linkFault } from '../../support/faults/scenarios';

/**
 * A half-open NATS link (docs/reliability.md, scenario 14): the partition leader's proxy discards
 * every byte both ways for 8 s while its sockets stay open. The controller replaces it after the
 * broker timeout (3 s); after the heal its dead connection is noticed only by the NATS client's PINGs,
 * then it reconnects and rejoins. A leader that only stops hearing (one way) keeps its heartbeats
 * going; its followers report it instead. The long tier adds the follower, the controller and the
 * other one-way cut.
 */
const cluster = useFaultCluster();

describe('NATS partitions (fault suite)', () => {
  it('a partition leader cut off from NATS (blackholed) is replaced within broker timeout + 4 s and acknowledges nothing twice', async () => {
    const { report, figures } = await linkFault(cluster(), 'bhl', 'leader', { kind: 'blackhole' }, 8000);
    expectClean(report);
    // Broker timeout (3 s), the controller's check, the leader change through Raft, and the 1 s
    // grain of the publishers' deadlines: 5.7-6.0 s measured.
    expect(figures.allBlockedMs).toBeLessThan(3000 + 4000);
  }, 400_000);

  it('a partition leader that speaks but cannot hear (NATS to broker dropped) is reported by its followers and replaced within the leader timeout + 4 s', async () => {
    // Its heartbeats still reach the controller, so only the followers' reports (replica.max.leader.timeout,
    // 3 s here) can move the leadership; before them ALL publishes stalled until its PINGs failed (40.7 s).
    const { report, figures } = await linkFault(cluster(), 'bhd', 'leader', { kind: 'blackhole-down' }, 8000);
    expectClean(report);
    expect(figures.allBlockedMs).toBeLessThan(3000 + 4000);
  }, 400_000);
});
