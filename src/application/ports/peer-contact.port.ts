/** When peers were last heard from, and when contact resumed after a silence (for `RaftAckLease`). */
export interface PeerContact {
  /** Wall-clock ms since `peer` was last heard from; Infinity when never. */
  silenceMs(peer: string): number;
  /** When contact with some peer last resumed after a silence longer than `gapMs` (0 when never). */
  lastGapEndMs(): number;
}
