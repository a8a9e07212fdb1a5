import type { ActivityEvent } from '../../domain/activity/activity-event';

/** Encodes an activity event as the `__activity` record's value (Liftbridge's ActivityStreamEvent protobuf). */
export interface ActivityEncoder {
  encode(event: ActivityEvent): Uint8Array;
}
