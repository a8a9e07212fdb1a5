import type { MetadataGateway } from '../../../../src/application/cluster/metadata-gateway';
import { PartitionControllerRequests } from '../../../../src/application/partitions/partition-controller-requests';
import type { AckLease } from '../../../../src/application/ports/ack-lease.port';
import type { MetadataCommand } from '../../../../src/domain/metadata/metadata-commands';
import type { PartitionState } from '../../../../src/domain/partition/partition-state';
import { memorySettings, silentLogger } from '../../../support/memory-broker';
import { VirtualTime } from '../../../support/virtual-time';

const PARTITION = { stream: 's', id: 0, leader: 'a', leaderEpoch: 7, replicas: ['a', 'b', 'c'], isr: ['a', 'b', 'c'] } as unknown as PartitionState;

type GatewayAnswer = Awaited<ReturnType<MetadataGateway['execute']>>;

/** The requests of server 'b' with a lease the test holds or not; what reached the gateway. `answer` plays the controller (recorded by default). */
function requestsOf(leaseHeld: { value: boolean }, answer: () => Promise<GatewayAnswer> = async () => ({ ok: true, value: [] })) {
  const sent: MetadataCommand[] = [];
  const gateway = { execute: async (command: MetadataCommand) => (sent.push(command), answer()) } as unknown as MetadataGateway;
  const ackLease: AckLease = { holds: () => leaseHeld.value, whenHeld: async () => undefined };
  const clock = new VirtualTime();
  const requests = new PartitionControllerRequests({ gateway, ackLease, settings: memorySettings({ serverId: 'b' }), logger: silentLogger, clock });
  return { requests, sent, clock };
}

describe('what partition roles ask of the controller without contact with the metadata group (docs/replication.md "Failover")', () => {
  it('a follower reports its silent leader only while its own lease holds: a deaf follower must not take the leadership', async () => {
    const lease = { value: false };
    const { requests, sent } = requestsOf(lease);
    await requests.reportLeader(PARTITION);
    expect(sent).toEqual([]);
    lease.value = true;
    await requests.reportLeader(PARTITION);
    expect(sent).toEqual([{ type: 'ReportLeader', data: { stream: 's', partition: 0, replica: 'b', leader: 'a', leaderEpoch: 7 } }]);
  });

  it('a leader defers ISR shrinks while its lease lapsed (it may be the deaf one), but not expansions', async () => {
    const lease = { value: false };
    const { requests, sent } = requestsOf(lease);
    expect(await requests.changeIsr('ShrinkIsr', PARTITION, 'c')).toBe(false);
    expect(sent).toEqual([]);
    expect(await requests.changeIsr('ExpandIsr', PARTITION, 'c')).toBe(true);
    lease.value = true;
    expect(await requests.changeIsr('ShrinkIsr', PARTITION, 'c')).toBe(true);
    expect(sent.map((c) => c.type)).toEqual(['ExpandIsr', 'ShrinkIsr']);
  });

});

describe('an idle leader\'s pause request (docs/consumers.md "Auto-pause")', () => {
  it('asks for its partition alone to be paused (resumeAll off), and only while its lease holds', async () => {
    const lease = { value: false };
    const { requests, sent, clock } = requestsOf(lease);
    expect(await requests.pauseIdle(PARTITION)).toBe(false);
    expect(sent).toEqual([]);
    lease.value = true;
    expect(await requests.pauseIdle(PARTITION)).toBe(true);
    expect(sent).toEqual([{ type: 'PauseStream', data: { name: 's', partitions: [0], resumeAll: false, atNs: clock.nowNs().toString() } }]);
  });

  it('a refused or failed request answers false instead of throwing, so the leader asks again later', async () => {
    const refused = requestsOf({ value: true }, async () => ({ ok: false, error: { kind: 'StreamNotFound' } }) as unknown as GatewayAnswer);
    expect(await refused.requests.pauseIdle(PARTITION)).toBe(false);
    const failed = requestsOf({ value: true }, () => Promise.reject(new Error('metadata command timed out')));
    expect(await failed.requests.pauseIdle(PARTITION)).toBe(false);
    expect(failed.sent.map((c) => c.type)).toEqual(['PauseStream']);
  });
});
