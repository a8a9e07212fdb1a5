import { assert } from '../../shared/assert';
import type { EntryData, NodeId } from './raft-message';

/**
 * Single-server membership changes (thesis §4.1, etcd `ConfChange` without joint consensus):
 * one voter is added or removed at a time, and the leader accepts a change only once the
 * previous one and an entry of its own term are applied.
 */
export type ConfChange = { readonly type: 'AddVoter'; readonly nodeId: NodeId } | { readonly type: 'RemoveVoter'; readonly nodeId: NodeId };

/**
 * A `conf-change` entry carries the whole voter set after the change, not the delta, so that
 * replaying the log (or a joining node reading it from the start) ends in the same membership
 * whatever configuration it started from.
 */
export interface ConfChangeEntryData {
  readonly change: ConfChange;
  readonly voters: readonly NodeId[];
}

export const encodeConfChange = (data: ConfChangeEntryData): string => JSON.stringify({ change: data.change, voters: data.voters });

export function decodeConfChange(data: EntryData): ConfChangeEntryData {
  assert(typeof data === 'string', 'a conf-change entry holds a string');
  const decoded = JSON.parse(data) as ConfChangeEntryData;
  assert(Array.isArray(decoded.voters) && decoded.voters.every((v) => typeof v === 'string' && v.length > 0), 'conf-change voters are node ids');
  assert(new Set(decoded.voters).size === decoded.voters.length, 'conf-change voters contain duplicates');
  return decoded;
}

/** The voter set after `change`, or null when the change would do nothing or leave no voter. */
export function votersAfter(voters: readonly NodeId[], change: ConfChange): NodeId[] | null {
  const present = voters.includes(change.nodeId);
  if (change.type === 'AddVoter') return present || change.nodeId.length === 0 ? null : [...voters, change.nodeId];
  if (!present || voters.length === 1) return null;
  return voters.filter((v) => v !== change.nodeId);
}
