/**
 * Whether this server may acknowledge records as a partition leader right now. A leader that was
 * paused (SIGSTOP, a long GC, a frozen VM) may have been replaced while it slept; it must not
 * acknowledge anything until its metadata is known to be current again (`RaftAckLease`).
 */
export interface AckLease {
  holds(): boolean;
  /** Resolves once `holds()` would be true (polling; never rejects). */
  whenHeld(): Promise<void>;
}

/** A server that cannot be replaced behind its back (a group of one, tests). */
export const ALWAYS_HELD: AckLease = { holds: () => true, whenHeld: () => Promise.resolve() };
