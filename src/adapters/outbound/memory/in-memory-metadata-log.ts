import { Observable, Subject } from 'rxjs';
import { MetadataLog, MetadataLogEntry } from '../../../application/ports/metadata-log.port';
import { MetadataProposal } from '../../../domain/metadata/metadata-proposal';

/**
 * The metadata log in memory: entries survive a "restart" when the same `stored` array is handed
 * to a new instance (the simulator's crash model), and are committed on the next microtask.
 */
export class InMemoryMetadataLog implements MetadataLog {
  private readonly committed = new Subject<MetadataLogEntry>();
  readonly committed$: Observable<MetadataLogEntry> = this.committed.asObservable();
  readonly isLeader = true;
  private closed = false;

  constructor(readonly stored: MetadataProposal[] = []) {}

  async start(): Promise<void> {
    this.stored.forEach((proposal, i) => this.committed.next({ kind: 'proposal', index: i + 1, proposal, recovered: true }));
  }

  async propose(proposal: MetadataProposal): Promise<void> {
    if (this.closed) throw new Error('metadata log is closed');
    // A copy, so that later mutation by the caller cannot change what was "written".
    const stored = JSON.parse(JSON.stringify(proposal)) as MetadataProposal;
    this.stored.push(stored);
    await Promise.resolve();
    this.committed.next({ kind: 'proposal', index: this.stored.length, proposal: stored, recovered: false });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.committed.complete();
  }
}
