import { AesValueEncryption } from '../../../src/adapters/outbound/crypto/aes-value-encryption';
import { Observable, Subject } from 'rxjs';
import { ALWAYS_HELD } from '../../../src/application/ports/ack-lease.port';
import type { MetadataGateway } from '../../../src/application/cluster/metadata-gateway';
import type { ReplicationTransport } from '../../../src/application/ports/replication-transport.port';
import { MetadataService } from '../../../src/application/metadata/metadata-service';
import { PartitionSupervisor } from '../../../src/application/partitions/partition-supervisor';
import { MetadataLog, MetadataLogEntry } from '../../../src/application/ports/metadata-log.port';
import { NoMetrics } from '../../../src/adapters/outbound/metrics/no-metrics';
import { InMemoryMessageTransport } from '../../../src/adapters/outbound/memory/in-memory-message-transport';
import { InMemoryPartitionLogStore } from '../../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { SystemClock } from '../../../src/adapters/outbound/system/system-clock';
import { TimerScheduler } from '../../../src/adapters/outbound/system/timer-scheduler';
import { MetadataProposal } from '../../../src/domain/metadata/metadata-proposal';
import { MetadataState } from '../../../src/domain/metadata/metadata-state';
import { createStream, registerBroker, stateAfter } from '../../support/metadata-mothers';
import { memorySettings, silentLogger } from '../../support/memory-broker';

/** A metadata log whose entries the test scripts: `start` replays `initial`, proposals commit at once. */
class ScriptedMetadataLog implements MetadataLog {
  private readonly subject = new Subject<MetadataLogEntry>();
  readonly committed$: Observable<MetadataLogEntry> = this.subject.asObservable();
  readonly isLeader = true;
  private lastIndex = 0;

  constructor(private readonly initial: readonly MetadataLogEntry[] = []) {}

  async start(): Promise<void> {
    for (const entry of this.initial) this.emit(entry);
  }

  async propose(proposal: MetadataProposal): Promise<void> {
    await Promise.resolve();
    this.emit({ kind: 'proposal', index: this.lastIndex + 1, proposal, recovered: false });
  }

  /** What a Raft follower does when the leader's snapshot arrives. */
  emit(entry: MetadataLogEntry): void {
    this.lastIndex = entry.index;
    this.subject.next(entry);
  }

  async close(): Promise<void> {
    this.subject.complete();
  }
}

const scheduler = new TimerScheduler();
const settings = memorySettings({ serverId: 'a' });

function serverOver(log: MetadataLog, store: InMemoryPartitionLogStore): { service: MetadataService; supervisor: PartitionSupervisor } {
  const service = new MetadataService(log, settings, scheduler, silentLogger);
  // Single-replica streams only: replication and ISR changes are never used here.
  const unusedReplication = {} as ReplicationTransport;
  const unusedGateway = {} as MetadataGateway;
  const supervisor = new PartitionSupervisor(
    service, store, new InMemoryMessageTransport(), settings, new SystemClock(), scheduler, silentLogger, new NoMetrics(), unusedReplication, unusedGateway, ALWAYS_HELD, new AesValueEncryption(null),
  );
  return { service, supervisor };
}

/** s2 and s3, built by another history (so s2's epochs differ from the running one's). */
const snapshotState = (): MetadataState => stateAfter(registerBroker('a'), createStream('s2'), createStream('s3'));
const streamsIn = async (store: InMemoryPartitionLogStore): Promise<string[]> => [...new Set((await store.list()).map((r) => r.stream))].sort();

describe('PartitionSupervisor after a snapshot replaced the metadata', () => {
  it('starts the partitions that appear, stops and deletes the ones that vanished, restarts the changed ones', async () => {
    const log = new ScriptedMetadataLog();
    const store = new InMemoryPartitionLogStore();
    const { service, supervisor } = serverOver(log, store);
    supervisor.watch();
    await service.start();
    await supervisor.startRecovered();
    expect((await service.execute(registerBroker('a'))).ok).toBe(true);
    expect((await service.execute(createStream('s1'))).ok).toBe(true);
    expect((await service.execute(createStream('s2'))).ok).toBe(true);
    await supervisor.settled();
    expect(supervisor.get({ stream: 's1', partition: 0 })).toBeDefined();
    const runningS2 = supervisor.get({ stream: 's2', partition: 0 });
    expect(runningS2).toBeDefined();

    const state = snapshotState();
    log.emit({ kind: 'snapshot', index: 10, state, recovered: false });
    expect(service.state).toBe(state);
    await supervisor.settled();

    expect(supervisor.get({ stream: 's1', partition: 0 })).toBeUndefined();
    expect(supervisor.get({ stream: 's3', partition: 0 })?.isLeader).toBe(true);
    expect(supervisor.get({ stream: 's2', partition: 0 })?.state).toEqual(state.streams.get('s2')?.partitions[0]);
    expect(await streamsIn(store)).toEqual(['s2', 's3']);

    // Entries after the snapshot apply on top of it.
    expect((await service.execute(createStream('s4'))).ok).toBe(true);
    await supervisor.settled();
    expect(service.state.lastAppliedIndex).toBe(11);
    expect(supervisor.get({ stream: 's4', partition: 0 })).toBeDefined();
    await supervisor.stop();
    await service.stop();
  });

  it('ignores a snapshot that is not past the applied index', async () => {
    const log = new ScriptedMetadataLog();
    const { service } = serverOver(log, new InMemoryPartitionLogStore());
    const applied: string[] = [];
    service.applied$.subscribe((e) => applied.push(`${e.kind}@${e.index}`));
    await service.start();
    expect((await service.execute(registerBroker('a'))).ok).toBe(true);
    log.emit({ kind: 'snapshot', index: 1, state: snapshotState(), recovered: false });
    expect(applied).toEqual(['proposal@1']);
    expect(service.state.streams.size).toBe(0);
    await service.stop();
  });

  it('recovering from a snapshot, removes the logs of streams the state no longer has and starts the rest', async () => {
    const store = new InMemoryPartitionLogStore();
    const first = serverOver(new ScriptedMetadataLog(), store);
    first.supervisor.watch();
    await first.service.start();
    await first.supervisor.startRecovered();
    expect((await first.service.execute(registerBroker('a'))).ok).toBe(true);
    expect((await first.service.execute(createStream('s1'))).ok).toBe(true);
    await first.supervisor.settled();
    await first.supervisor.stop();
    await first.service.stop();
    expect(await streamsIn(store)).toEqual(['s1']);

    // Restart over a log compacted past s1's deletion: only the snapshot says what exists.
    const state = snapshotState();
    const second = serverOver(new ScriptedMetadataLog([{ kind: 'snapshot', index: 7, state, recovered: true }]), store);
    second.supervisor.watch();
    await second.service.start();
    expect(second.service.state).toBe(state);
    await second.supervisor.startRecovered();
    expect(await streamsIn(store)).toEqual(['s2', 's3']);
    expect(second.supervisor.get({ stream: 's2', partition: 0 })).toBeDefined();
    expect(second.supervisor.get({ stream: 's3', partition: 0 })).toBeDefined();
    await second.supervisor.stop();
    await second.service.stop();
  });
});
