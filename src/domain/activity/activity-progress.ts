import { RecordActivityPublished } from '../metadata/metadata-commands';
import { ActivityPublished } from '../metadata/metadata-events';
import { Decision, noDecision } from '../metadata/metadata-proposal';
import { MetadataState } from '../metadata/metadata-state';

/**
 * How far the activity stream has been published, kept in the metadata so that a new controller
 * goes on from there (docs/consumers.md "Activity stream"). It only moves forward: a record at or
 * below the current one changes nothing, so it needs no expectation.
 */
export const decideActivityPublished = (command: RecordActivityPublished, state: MetadataState): Decision =>
  command.data.id > state.activityPublishedUpTo ? { events: [{ type: 'ActivityPublished', data: { id: command.data.id } }], expectations: [] } : noDecision;

export const evolveActivityPublished = (state: MetadataState, event: ActivityPublished): MetadataState => ({
  ...state,
  activityPublishedUpTo: Math.max(state.activityPublishedUpTo, event.data.id),
});
