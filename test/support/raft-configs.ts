import type { RaftConfig } from '../../src/domain/consensus/raft';
import { Mulberry32Prng } from '../../src/domain/shared/prng';

/** The Raft settings the metadata-log tests run with: short elections, PreVote and CheckQuorum on. */
export const testRaftConfig = (id: string, voters: readonly string[], seed: number): RaftConfig => ({
  id,
  voters,
  electionTicks: 10,
  heartbeatTicks: 2,
  preVote: true,
  checkQuorum: true,
  prng: new Mulberry32Prng(seed),
  appendEntriesMax: 64,
  inflightMessagesMax: 16,
  entryBytesMax: 1024 * 1024,
  uncommittedEntriesMax: 1024,
  committedEntriesPerReadyMax: 64,
});
