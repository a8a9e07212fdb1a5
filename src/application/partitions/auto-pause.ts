import { Cancellable, Clock, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { ReceivedTimestamps } from './partition-runtime';

/** A partition's effective auto-pause options (docs/consumers.md "Auto-pause"). */
export interface AutoPauseSettings {
  /** No message for this long and the leader asks for a pause; 0 = never. */
  readonly idleMs: number;
  /** Not while this server serves a subscription of the partition. */
  readonly disableIfSubscribers: boolean;
}

/** What the leader knows when its auto-pause timer fires. */
export interface AutoPauseCheck {
  readonly nowMs: number;
  /** When this server last received a message for the partition; null when it never did. */
  readonly lastReceivedMs: number | null;
  /** Subscriptions of the partition this server serves now. */
  readonly activeSubscriptions: number;
}

export type AutoPauseDecision = { readonly kind: 'pause' } | { readonly kind: 'checkAgain'; readonly inMs: number };

/**
 * Pause when the partition received nothing for `idleMs` (never receiving counts as idle) and
 * subscribers do not hold it open; otherwise look again when it would have been idle that long, or
 * a full period later when it already is (subscribers held it open).
 */
export function decideAutoPause(settings: AutoPauseSettings, check: AutoPauseCheck): AutoPauseDecision {
  const idleForMs = check.lastReceivedMs === null ? Number.POSITIVE_INFINITY : check.nowMs - check.lastReceivedMs;
  const idle = idleForMs >= settings.idleMs;
  if (idle && (!settings.disableIfSubscribers || check.activeSubscriptions === 0)) return { kind: 'pause' };
  const leftMs = settings.idleMs - idleForMs;
  return { kind: 'checkAgain', inMs: leftMs > 0 ? leftMs : settings.idleMs };
}

export interface AutoPauseTimerDeps {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Updated by the leader once per appended batch: the timer only reads it when it fires. */
  readonly received: ReceivedTimestamps;
  readonly activeSubscriptions: () => number;
  /** Asks the controller to pause this partition alone; true once recorded. */
  readonly requestPause: () => Promise<boolean>;
}

/**
 * The leader's auto-pause timer (docs/consumers.md "Auto-pause"): one timer per leader, armed for
 * the full period at start and re-armed by `decideAutoPause`. A recorded pause stops the leader
 * (and this timer with it); a refused or unanswered request is asked again a full period later.
 */
export class AutoPauseTimer {
  private timer: Cancellable | null = null;
  private stopped = false;

  constructor(
    private readonly settings: AutoPauseSettings,
    private readonly deps: AutoPauseTimerDeps,
  ) {}

  start(): void {
    this.arm(this.settings.idleMs);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer = this.deps.scheduler.setTimeout(this.fire, ms);
  }

  private readonly fire = (): void => {
    this.timer = null;
    if (this.stopped) return;
    const latestNs = this.deps.received.latestNs;
    // Both from the nanosecond clock the reception times come from, to the microsecond: whole
    // milliseconds (or the millisecond clock) could call a partition idle up to 1 ms early.
    const decision = decideAutoPause(this.settings, {
      nowMs: nsToMs(this.deps.clock.nowNs()),
      lastReceivedMs: latestNs === 0n ? null : nsToMs(latestNs),
      activeSubscriptions: this.deps.activeSubscriptions(),
    });
    if (decision.kind === 'checkAgain') {
      this.arm(decision.inMs);
      return;
    }
    this.deps.logger.info({ idleMs: this.settings.idleMs }, 'partition idle: asking the controller to pause it');
    void this.deps.requestPause().then(
      (recorded) => {
        if (!recorded) this.arm(this.settings.idleMs);
      },
      (error: unknown) => {
        this.deps.logger.warn({ err: error }, 'auto-pause request failed: asking again after the next idle period');
        this.arm(this.settings.idleMs);
      },
    );
  };
}

const nsToMs = (ns: bigint): number => Number(ns / 1000n) / 1000;
