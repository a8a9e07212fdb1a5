import { ActivityEvent, activityEventOf } from '../../domain/activity/activity-event';
import type { AppliedEntry } from '../metadata/metadata-service';

/**
 * The activity events not yet published, in log order, kept on every server from the entries it
 * applies (replayed ones included), so that whichever server becomes controller can go on from the
 * last published id. Events at or below `publishedUpTo` are dropped. A snapshot carries no events:
 * what it stands for and was not yet published is lost (docs/consumers.md "Activity stream").
 */
export class ActivityBacklog {
  private readonly pending: ActivityEvent[] = [];
  private head = 0;
  private publishedUpTo = 0;

  /** Takes in one applied entry; `publishedUpTo` is the metadata's record of the last published id after it. */
  onApplied(entry: AppliedEntry, publishedUpTo: number): void {
    if (entry.kind === 'proposal' && entry.outcome.kind === 'applied') {
      const event = activityEventOf(entry.outcome.events, entry.index);
      if (event !== null && event.id > this.publishedUpTo) this.pending.push(event);
    }
    this.markPublished(publishedUpTo);
  }

  /** Everything up to `id` has been published (by this server or an earlier controller). */
  markPublished(id: number): void {
    if (id <= this.publishedUpTo) return;
    this.publishedUpTo = id;
    while (this.head < this.pending.length && this.pending[this.head]!.id <= id) this.head++;
    // Compact now and then rather than shift() per event.
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The oldest event not yet published, or null. */
  next(): ActivityEvent | null {
    return this.pending[this.head] ?? null;
  }

  /** Events waiting (metrics: the activity stream's lag). */
  get size(): number {
    return this.pending.length - this.head;
  }
}
