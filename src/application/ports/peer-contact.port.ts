/** When peers were last heard from, and when contact with each resumed after a silence (for `RaftAckLease`). */
export interface PeerContact {
  /** Wall-clock ms since `peer` was last heard from; Infinity when never. */
  silenceMs(peer: string): number;
  /** When contact with `peer` last resumed after a silence longer than `gapMs` (0 when never). */
  gapEndMs(peer: string): number;
}
