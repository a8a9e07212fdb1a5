import type { Scheduler } from '../../../src/application/ports/clock.port';
import type { Prng } from '../../../src/domain/shared/prng';

/** The controller's record of the partition (what the metadata group holds). */
export interface PartitionMetadata {
  readonly leader: string;
  readonly leaderEpoch: number;
  readonly isr: readonly string[];
}

/** What a partition leader asks the controller: the data of a `ShrinkIsr` or `ExpandIsr` command. */
export interface IsrChangeRequest {
  readonly type: 'ShrinkIsr' | 'ExpandIsr';
  readonly replica: string;
  readonly leader: string;
  readonly leaderEpoch: number;
}

/** What the controller knows of the replicas, and whom it tells about changes. */
export interface ControllerView {
  /** Up and reachable: the controller can hand it the leadership. */
  canLead(id: string): boolean;
  /** The metadata changed: every replica that hears the controller brings its role in line. */
  metadataChanged(): void;
  note(line: string): void;
}

/** The controller (metadata group) takes this long to answer an ISR change. */
const CONTROLLER_LATENCY_MS = 3;

/**
 * The metadata group of the simulation, without Raft underneath (the Raft simulation covers that):
 * it holds the partition's `PartitionMetadata`, answers the leaders' ISR requests with the rules of
 * `decideIsrChange`, and fails leaders over with those of `decideLeaderChange`. Every request a
 * leader makes is counted by its outcome.
 */
export class SimulatedController {
  private current: PartitionMetadata;
  private epochs = 1;
  readonly counts = { failovers: 0, isrShrinks: 0, isrExpands: 0, isrRequests: 0, isrRefused: 0, isrUnanswered: 0 };

  constructor(
    private readonly ids: readonly string[],
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    private readonly view: ControllerView,
  ) {
    this.current = { leader: ids[0]!, leaderEpoch: this.epochs, isr: [...ids] };
  }

  get metadata(): PartitionMetadata {
    return this.current;
  }

  /** Whether the metadata names `replica` the leader of `epoch` (the epoch is current). */
  leads(replica: string, epoch: number): boolean {
    return this.current.leader === replica && this.current.leaderEpoch === epoch;
  }

  /**
   * `decideLeaderChange`: the new leader is an in-sync replica other than the failed one (here also
   * up and reachable), the failed one leaves the ISR, the epoch is bumped. False when no candidate.
   */
  failover(failed: string, why: string): boolean {
    if (this.current.leader !== failed) return false;
    const candidates = this.current.isr.filter((id) => id !== failed && this.view.canLead(id));
    if (candidates.length === 0) {
      this.view.note(`no ISR candidate to replace ${failed} (${why}); isr ${this.current.isr.join(',')}`);
      return false;
    }
    const leader = candidates[this.prng.nextInt(candidates.length)]!;
    this.epochs++;
    this.current = { leader, leaderEpoch: this.epochs, isr: this.current.isr.filter((id) => id !== failed) };
    this.counts.failovers++;
    this.view.note(`failover (${why}): ${leader} leads epoch ${this.epochs}, isr ${this.current.isr.join(',')}`);
    this.view.metadataChanged();
    return true;
  }

  /**
   * Answers after the controller's latency: true when recorded (or already so), false when refused.
   * `inContact` is read on arrival: a dead or cut-off asker gets no answer, and the promise rejects
   * (outcome unknown), as the metadata gateway's timeout does.
   */
  requestIsrChange(request: IsrChangeRequest, inContact: () => boolean): Promise<boolean> {
    this.counts.isrRequests++;
    return new Promise((resolve, reject) => {
      this.scheduler.setTimeout(() => {
        if (!inContact()) {
          this.counts.isrUnanswered++;
          reject(new Error('controller unreachable'));
          return;
        }
        const recorded = this.decideIsrChange(request);
        if (!recorded) this.counts.isrRefused++;
        resolve(recorded);
      }, CONTROLLER_LATENCY_MS);
    });
  }

  /** `decideIsrChange`: only the current leader of the current epoch, never about itself. */
  private decideIsrChange(request: IsrChangeRequest): boolean {
    const m = this.current;
    // Refusals (the controller's LeaderGenerationMismatch and NotAReplica) are definite answers.
    if (!this.leads(request.leader, request.leaderEpoch)) return false;
    if (request.replica === m.leader || !this.ids.includes(request.replica)) return false;
    const shrink = request.type === 'ShrinkIsr';
    if (shrink !== m.isr.includes(request.replica)) return true;
    this.current = { ...m, isr: shrink ? m.isr.filter((id) => id !== request.replica) : [...m.isr, request.replica] };
    if (shrink) this.counts.isrShrinks++;
    else this.counts.isrExpands++;
    this.view.note(`${request.type} ${request.replica} by ${request.leader}@${request.leaderEpoch}: isr ${this.current.isr.join(',')}`);
    this.view.metadataChanged();
    return true;
  }
}
