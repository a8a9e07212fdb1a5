import { inject, injectable } from 'inversify';
import { Subject, Subscription } from 'rxjs';
import { applyProposal, ApplyOutcome } from '../../domain/metadata/apply-proposal';
import { MetadataCommand } from '../../domain/metadata/metadata-commands';
import { decide } from '../../domain/metadata/metadata-decide';
import { MetadataError } from '../../domain/metadata/metadata-errors';
import { MetadataEvent } from '../../domain/metadata/metadata-events';
import { MetadataProposal } from '../../domain/metadata/metadata-proposal';
import { emptyMetadataState, MetadataState } from '../../domain/metadata/metadata-state';
import { assert } from '../../domain/shared/assert';
import { ok, Result } from '../../domain/shared/result';
import { BrokerError } from '../errors/broker-errors';
import { Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { MetadataLog, MetadataLogEntry } from '../ports/metadata-log.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';

/** A committed proposal was applied (or rejected by its expectations); `state` is the state after it. */
export interface AppliedProposal {
  readonly kind: 'proposal';
  readonly index: number;
  readonly proposal: MetadataProposal;
  readonly outcome: ApplyOutcome;
  readonly recovered: boolean;
  readonly state: MetadataState;
}

/**
 * A snapshot replaced the whole state (restart from a compacted log, or a lagging follower brought
 * up to date by the leader): there are no events, so subscribers compare `previous` with `state`.
 */
export interface AppliedSnapshot {
  readonly kind: 'snapshot';
  readonly index: number;
  readonly recovered: boolean;
  readonly previous: MetadataState;
  readonly state: MetadataState;
}

export type AppliedEntry = AppliedProposal | AppliedSnapshot;

export class MetadataTimeoutError extends BrokerError {
  /** `reason`: why the last attempt was not accepted, when known (e.g. the controller's storage failed). */
  constructor(ms: number, reason?: string) {
    super(`metadata operation timed out after ${ms} ms${reason === undefined ? '' : ` (last attempt: ${reason})`}`, { retriable: true });
  }
}

/** How many times a command is re-decided when its proposal lost a race (bounded, style rule 8). */
const REDECIDE_ATTEMPTS_MAX = 3;

/**
 * Holds the applied metadata state, applies committed log entries in order, and executes commands:
 * decide against the applied state, propose, wait for the entry to be applied (docs/style.md "Metadata events").
 */
@injectable()
export class MetadataService {
  private current: MetadataState = emptyMetadataState();
  private readonly appliedSubject = new Subject<AppliedEntry>();
  private readonly waiting = new Map<string, (outcome: ApplyOutcome) => void>();
  private subscription: Subscription | null = null;
  private serial: Promise<unknown> = Promise.resolve();
  private proposalSequence = 0;

  /** Every applied entry, recovered ones included, in index order. */
  readonly applied$ = this.appliedSubject.asObservable();

  constructor(
    @inject(TOKENS.MetadataLog) private readonly log: MetadataLog,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  get state(): MetadataState {
    return this.current;
  }

  /** Replays the stored log (entries arrive with recovered: true), then accepts commands. */
  async start(): Promise<void> {
    this.subscription = this.log.committed$.subscribe((entry) => this.apply(entry));
    await this.log.start();
    this.logger.info({ lastAppliedIndex: this.current.lastAppliedIndex, streams: this.current.streams.size }, 'metadata recovered');
  }

  async stop(): Promise<void> {
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.appliedSubject.complete();
  }

  /**
   * Decides and records a command. Commands run one at a time, so each decision sees the effect of
   * the previous one; a proposal rejected because the state moved is re-decided (bounded).
   * `signal`: the caller's deadline (OperationDeadline), which also bounds the wait in the queue;
   * without one, each proposal waits up to the metadata timeout.
   */
  execute(command: MetadataCommand, signal?: AbortSignal): Promise<Result<readonly MetadataEvent[], MetadataError>> {
    const run = this.serial.then(() => this.executeNow(command, signal));
    this.serial = run.catch(() => undefined);
    return run;
  }

  private async executeNow(command: MetadataCommand, signal: AbortSignal | undefined): Promise<Result<readonly MetadataEvent[], MetadataError>> {
    for (let attempt = 0; attempt < REDECIDE_ATTEMPTS_MAX; attempt++) {
      if (signal?.aborted === true) throw signal.reason;
      const decision = decide(command, this.current);
      if (!decision.ok) return decision;
      if (decision.value.events.length === 0) return ok([]);
      const proposal: MetadataProposal = {
        // Unique across restarts: a proposal of an earlier run may commit after this one started.
        proposalId: `${this.settings.serverId}:${this.settings.bootId}:${++this.proposalSequence}`,
        ...decision.value,
      };
      const outcome = await this.proposeAndWait(proposal, signal);
      if (outcome.kind === 'applied') return ok(outcome.events);
      this.logger.debug({ command: command.type, failed: outcome.failed }, 'proposal rejected, deciding again');
    }
    // The state kept moving under us: answer from the latest state if it now refuses the command.
    const last = decide(command, this.current);
    if (!last.ok) return last;
    throw new BrokerError('metadata changed concurrently, retry the request', { retriable: true });
  }

  /** Proposes and waits for the entry to be applied here, until `signal` aborts (or the metadata timeout without one). */
  private proposeAndWait(proposal: MetadataProposal, signal: AbortSignal | undefined): Promise<ApplyOutcome> {
    return new Promise<ApplyOutcome>((resolve, reject) => {
      const stop = (error: unknown): void => {
        end();
        reject(error);
      };
      const end = this.waitUntil(signal, () => stop(signal?.reason ?? new MetadataTimeoutError(this.settings.metadataTimeoutMs)));
      this.waiting.set(proposal.proposalId, (outcome) => {
        end();
        resolve(outcome);
      });
      this.log.propose(proposal, signal).catch(stop);
    }).finally(() => this.waiting.delete(proposal.proposalId));
  }

  /** Calls `expire` when `signal` aborts, or after the metadata timeout when there is none; returns how to stop waiting. */
  private waitUntil(signal: AbortSignal | undefined, expire: () => void): () => void {
    if (signal === undefined) {
      const timer = this.scheduler.setTimeout(expire, this.settings.metadataTimeoutMs);
      return () => timer.cancel();
    }
    if (signal.aborted) {
      queueMicrotask(expire);
      return () => undefined;
    }
    signal.addEventListener('abort', expire, { once: true });
    return () => signal.removeEventListener('abort', expire);
  }

  private apply(entry: MetadataLogEntry): void {
    // Applying an entry twice is harmless: it is skipped (docs/style.md "Metadata events", step 6).
    if (entry.index <= this.current.lastAppliedIndex) return;
    if (entry.kind === 'snapshot') {
      // The snapshot holds everything up to its index: it replaces the state wholesale.
      assert(entry.state.lastAppliedIndex <= entry.index, `snapshot at ${entry.index} holds entries up to ${entry.state.lastAppliedIndex}`);
      const previous = this.current;
      this.current = entry.state;
      this.appliedSubject.next({ kind: 'snapshot', index: entry.index, recovered: entry.recovered, previous, state: entry.state });
      return;
    }
    const { state, outcome } = applyProposal(this.current, entry.proposal, entry.index);
    this.current = state;
    this.appliedSubject.next({ kind: 'proposal', index: entry.index, proposal: entry.proposal, outcome, recovered: entry.recovered, state });
    const waiter = this.waiting.get(entry.proposal.proposalId);
    if (waiter) {
      this.waiting.delete(entry.proposal.proposalId);
      waiter(outcome);
    }
  }
}
