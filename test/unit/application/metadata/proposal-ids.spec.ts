import { Observable, Subject } from 'rxjs';
import { TimerScheduler } from '../../../../src/adapters/outbound/system/timer-scheduler';
import { MetadataService, MetadataTimeoutError } from '../../../../src/application/metadata/metadata-service';
import { MetadataLog, MetadataLogEntry } from '../../../../src/application/ports/metadata-log.port';
import { MetadataProposal } from '../../../../src/domain/metadata/metadata-proposal';
import { memorySettings, silentLogger } from '../../../support/memory-broker';
import { registerBroker } from '../../../support/metadata-mothers';

/** A log that holds proposals until the test commits them, in the order it chooses. */
class HeldMetadataLog implements MetadataLog {
  private readonly subject = new Subject<MetadataLogEntry>();
  readonly committed$: Observable<MetadataLogEntry> = this.subject.asObservable();
  readonly isLeader = true;
  readonly held: MetadataProposal[] = [];
  private index = 0;

  async start(): Promise<void> {}

  propose(proposal: MetadataProposal): Promise<void> {
    this.held.push(proposal);
    return new Promise(() => undefined); // resolves never: the waiter hears it on committed$
  }

  commit(proposal: MetadataProposal): void {
    this.subject.next({ kind: 'proposal', index: ++this.index, proposal, recovered: false });
  }

  async close(): Promise<void> {}
}

describe('metadata proposal ids', () => {
  it('differ between runs of a server: an entry proposed before a restart never answers a request after it', async () => {
    const log = new HeldMetadataLog();
    const scheduler = new TimerScheduler();
    // The earlier run gives up on its request at once (its timer must not outlive the test).
    const before = new MetadataService(log, memorySettings({ serverId: 'a', metadataTimeoutMs: 1 }), scheduler, silentLogger);
    await before.start();
    const abandoned = before.execute(registerBroker('a')).catch((error: unknown) => error);
    expect(await abandoned).toBeInstanceOf(MetadataTimeoutError);
    await before.stop();

    // The restarted server (same log, same server id) asks for something else.
    const after = new MetadataService(log, memorySettings({ serverId: 'a', metadataTimeoutMs: 60_000 }), scheduler, silentLogger);
    await after.start();
    let answered: unknown = null;
    const request = after.execute(registerBroker('b')).then((r) => (answered = r));
    await new Promise(setImmediate);
    const [old, mine] = log.held;
    expect(old!.proposalId).not.toBe(mine!.proposalId);
    expect(old!.proposalId.startsWith('a:')).toBe(true);

    // The earlier run's entry commits late: it is applied, but it is not this request's answer.
    log.commit(old!);
    await new Promise(setImmediate);
    expect(answered).toBeNull();
    expect(after.state.brokers.has('a')).toBe(true);

    log.commit(mine!);
    await request;
    expect(answered).toMatchObject({ ok: true, value: [{ type: 'BrokerRegistered', data: { id: 'b' } }] });
    await after.stop();
  });
});
