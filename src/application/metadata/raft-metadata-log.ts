import { Observable, Subject } from 'rxjs';
import type { Entry, EntryData, NodeId, ProposeError, RaftConfig, RaftStatus } from '../../domain/consensus/raft';
import { MetadataProposal } from '../../domain/metadata/metadata-proposal';
import { BrokerError } from '../errors/broker-errors';
import type { Cancellable, Scheduler } from '../ports/clock.port';
import type { Logger } from '../ports/logger.port';
import type { MetadataLog, MetadataLogEntry } from '../ports/metadata-log.port';
import type { RaftStorage } from '../ports/raft-storage.port';
import type { RaftTransport } from '../ports/raft-transport.port';
import { RaftDriver, RaftDriverOptions } from './raft-driver';

const SCHEMA_VERSION = 1;

/** This server does not lead the metadata group: retry on (or forward to) `leaderId`. */
export class NotMetadataLeaderError extends BrokerError {
  constructor(readonly leaderId: NodeId | null) {
    super(`this server is not the metadata leader${leaderId === null ? ' (no leader known)' : ` (leader: ${leaderId})`}`, { retriable: true });
  }
}

/** The proposal was not committed in time; it may still be committed later. */
export class MetadataProposalTimeoutError extends BrokerError {
  constructor(ms: number) {
    super(`metadata proposal not committed within ${ms} ms`, { retriable: true });
  }
}

/** The proposal's log position was taken by another leader's entry: it will never be committed. */
export class MetadataProposalDroppedError extends BrokerError {
  constructor(index: number) {
    super(`metadata proposal at index ${index} was replaced after a leader change`, { retriable: true });
  }
}

/** The core refused the proposal for a reason other than leadership (too large, too many uncommitted entries). */
export class MetadataProposalRefusedError extends BrokerError {
  constructor(readonly reason: ProposeError) {
    super(`metadata proposal refused by raft: ${reason.kind}`, { retriable: reason.kind === 'TooManyUncommittedEntries' });
  }
}

export interface RaftMetadataLogOptions extends RaftDriverOptions {
  /** How long `propose` waits for its entry to be committed before rejecting. */
  readonly proposeTimeoutMs: number;
}

export interface RaftMetadataLogDeps {
  readonly config: RaftConfig;
  readonly storage: RaftStorage;
  readonly transport: RaftTransport;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
}

interface Waiter {
  readonly term: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly timer: Cancellable;
}

export const encodeMetadataProposal = (proposal: MetadataProposal): string => JSON.stringify({ v: SCHEMA_VERSION, p: proposal });

/** The proposal in a Raft entry's data, or null when the data is not an encoded metadata proposal. */
export function decodeMetadataProposal(data: EntryData): MetadataProposal | null {
  if (typeof data !== 'string') return null;
  try {
    const parsed = JSON.parse(data) as { v?: unknown; p?: MetadataProposal };
    if (parsed.v !== SCHEMA_VERSION || !parsed.p || typeof parsed.p.proposalId !== 'string' || !Array.isArray(parsed.p.events)) return null;
    return parsed.p;
  } catch {
    return null;
  }
}

/**
 * `MetadataLog` replicated with Raft (issue 3): proposals are JSON-encoded into Raft entries through
 * a `RaftDriver`; committed normal entries are decoded and emitted on `committed$` with their Raft
 * index (noop and conf-change entries are skipped, so indexes increase with gaps). At start the
 * entries the stored log already had committed are emitted with `recovered: true`.
 */
export class RaftMetadataLog implements MetadataLog {
  private readonly committed = new Subject<MetadataLogEntry>();
  readonly committed$: Observable<MetadataLogEntry> = this.committed.asObservable();
  readonly driver: RaftDriver;
  private readonly waiters = new Map<number, Waiter>();
  private readonly logger: Logger;
  private recoveredUpTo = 0;
  private closed = false;

  constructor(
    private readonly deps: RaftMetadataLogDeps,
    private readonly options: RaftMetadataLogOptions,
  ) {
    this.logger = deps.logger.child({ component: 'raft-metadata-log', raftId: deps.config.id });
    this.driver = new RaftDriver(deps.config, deps.storage, deps.transport, deps.scheduler, options, {
      onCommitted: (entries) => this.onCommitted(entries),
      onFailure: (error) => this.onFailure(error),
    });
  }

  get isLeader(): boolean {
    return this.driver.status()?.role === 'leader';
  }

  status(): RaftStatus | null {
    return this.driver.status();
  }

  async start(): Promise<void> {
    const persisted = await this.deps.storage.load();
    this.recoveredUpTo = persisted.hardState.commit;
    await this.driver.start();
    this.logger.info({ recoveredUpTo: this.recoveredUpTo }, 'raft metadata log started');
  }

  async propose(proposal: MetadataProposal): Promise<void> {
    if (this.closed) throw new Error('metadata log is closed');
    const status = this.driver.status();
    if (status === null || status.role !== 'leader') throw new NotMetadataLeaderError(status?.leaderId ?? null);
    const pending: { committed?: Promise<void> } = {};
    const result = await this.driver.propose(encodeMetadataProposal(proposal), (position) => {
      const committed = new Promise<void>((resolve, reject) => {
        const timeoutMs = this.options.proposeTimeoutMs;
        const timer = this.deps.scheduler.setTimeout(() => {
          this.waiters.delete(position.index);
          reject(new MetadataProposalTimeoutError(timeoutMs));
        }, timeoutMs);
        this.waiters.set(position.index, { term: position.term, resolve, reject, timer });
      });
      // Observed here so an early rejection is never reported as unhandled; re-awaited below.
      committed.catch(() => undefined);
      pending.committed = committed;
    });
    if (!result.ok) {
      if (result.error.kind === 'NotLeader') throw new NotMetadataLeaderError(result.error.leaderId);
      throw new MetadataProposalRefusedError(result.error);
    }
    if (pending.committed === undefined) throw new Error('raft driver accepted a proposal without reporting its position');
    await pending.committed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.driver.stop();
    this.rejectWaiters(new NotMetadataLeaderError(null));
    this.committed.complete();
  }

  private onCommitted(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const waiter = this.waiters.get(entry.index);
      if (waiter !== undefined && waiter.term !== entry.term) {
        this.waiters.delete(entry.index);
        waiter.timer.cancel();
        waiter.reject(new MetadataProposalDroppedError(entry.index));
      }
      if (entry.type !== 'normal') continue;
      const proposal = decodeMetadataProposal(entry.data);
      if (proposal === null) {
        this.logger.warn({ index: entry.index, term: entry.term }, 'committed raft entry is not a metadata proposal; skipped');
        continue;
      }
      this.committed.next({ index: entry.index, proposal, recovered: entry.index <= this.recoveredUpTo });
      if (waiter !== undefined && waiter.term === entry.term) {
        this.waiters.delete(entry.index);
        waiter.timer.cancel();
        waiter.resolve();
      }
    }
  }

  private onFailure(error: unknown): void {
    this.logger.error({ err: error }, 'raft driver failed; the metadata log refuses further proposals');
    this.rejectWaiters(error);
  }

  private rejectWaiters(error: unknown): void {
    for (const [index, waiter] of this.waiters) {
      this.waiters.delete(index);
      waiter.timer.cancel();
      waiter.reject(error);
    }
  }
}
