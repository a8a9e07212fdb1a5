import type { Observable } from 'rxjs';
import type { Cancellable, Scheduler } from '../ports/clock.port';
import { AckError, AckMessage } from '../ports/message-transport.port';

/**
 * How long an UNKNOWN ack waits for an OK from a new leader: the new leader acks once the ISR has
 * the record, a few ms on a LAN; an error answer is rare, so the wait costs little.
 */
export const UNKNOWN_ACK_GRACE_MS = 250;

/**
 * The ack that answers a Publish call, from the acks arriving on its own inbox: the first one,
 * except that an UNKNOWN ack (a leader whose write failed) is held for up to UNKNOWN_ACK_GRACE_MS
 * in case another answer follows. While leadership moves off a leader that cannot write, both it
 * and the new leader may receive the publish: the old one refuses at once, the new one acknowledges
 * after replicating, and the refusal would otherwise win (docs/storage.md "2.1 Storage failures (a full disk, an I/O error)").
 * Other refusals are the leader's verdict on the record and answer at once. Null when nothing came
 * within `waitMs` (or the inbox closed).
 */
export function answeringAck(acks$: Observable<AckMessage>, scheduler: Scheduler, waitMs: number): Promise<AckMessage | null> {
  return new Promise((resolve) => {
    let refused: AckMessage | null = null;
    let grace: Cancellable | null = null;
    let done = false;
    const settle = (ack: AckMessage | null): void => {
      if (done) return;
      done = true;
      timer.cancel();
      grace?.cancel();
      subscription.unsubscribe();
      resolve(ack);
    };
    const timer = scheduler.setTimeout(() => settle(refused), Math.max(0, waitMs));
    const subscription = acks$.subscribe({
      next: (ack) => {
        if (ack.ackError !== AckError.UNKNOWN) return settle(ack);
        if (refused !== null) return;
        refused = ack;
        grace = scheduler.setTimeout(() => settle(refused), UNKNOWN_ACK_GRACE_MS);
      },
      complete: () => settle(refused),
    });
  });
}
