import { unreachable } from '../shared/assert';
import { evolveActivityPublished } from '../activity/activity-progress';
import { evolveCluster } from '../cluster/cluster-aggregate';
import { evolveGroup, removeStreamFromGroups } from '../group/group-evolve';
import { evolvePartition } from '../partition/partition-evolve';
import { evolveStream } from '../stream/stream-aggregate';
import { EntryScratch } from './entry-scratch';
import { MetadataEvent } from './metadata-events';
import { MetadataState } from './metadata-state';

/**
 * Folds one event into the state, by the aggregate it belongs to. Pure and total over valid
 * histories: `decide` only emits events that apply cleanly, so a failing assertion here means a
 * corrupt log or a bug, not a user error. `index` is the metadata log index of the entry carrying
 * the event; it becomes the version (and epoch) of what the event touches. `scratch`, given while
 * one entry's events are folded, lets them share one copy of the stream map (entry-scratch.ts).
 */
export function evolve(state: MetadataState, event: MetadataEvent, index: number, scratch?: EntryScratch): MetadataState {
  switch (event.type) {
    case 'BrokerRegistered':
    case 'BrokerReachabilityChanged':
      return evolveCluster(state, event, index);
    case 'StreamCreated':
      return evolveStream(state, event, index, scratch);
    case 'StreamDeleted':
      // The groups that consumed the stream change in the same entry (group-evolve.ts).
      return removeStreamFromGroups(evolveStream(state, event, index, scratch), event.data.name, index);
    case 'ActivityPublished':
      return evolveActivityPublished(state, event);
    case 'ConsumerGroupCreated':
    case 'ConsumerGroupJoined':
    case 'ConsumerGroupLeft':
    case 'ConsumerGroupCoordinatorChanged':
      return evolveGroup(state, event, index);
    case 'PartitionCreated':
    case 'PartitionPaused':
    case 'PartitionResumed':
    case 'PartitionReadonlyChanged':
    case 'IsrShrunk':
    case 'IsrExpanded':
    case 'PartitionLeaderChanged':
      return evolvePartition(state, event, index, scratch);
    default:
      return unreachable(event);
  }
}
