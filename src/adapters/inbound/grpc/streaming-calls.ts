/** The details of the UNAVAILABLE status a streaming call ends with when the server shuts down. */
export const SHUTTING_DOWN_DETAILS = 'server is shutting down';

/**
 * The open long-lived calls (Subscribe, PublishAsync), so that shutdown ends them itself instead
 * of waiting out the grace period (docs/operability.md "Shutdown"):
 * - `beginDrain()` when shutdown begins: a subscription whose log closes from then on (its
 *   partition's leadership moved away) ends with UNAVAILABLE, which clients answer by
 *   resubscribing to the new leader, instead of INTERNAL;
 * - `endAll()` once leadership has moved: every call still open ends now, each in its own way,
 *   and so does any call that registers later.
 */
export class StreamingCalls {
  private drainingValue = false;
  private ended = false;
  private readonly enders = new Set<() => void>();

  get draining(): boolean {
    return this.drainingValue;
  }

  beginDrain(): void {
    this.drainingValue = true;
  }

  /** Registers how to end one call; returns the function that forgets it (call it when the call ends). */
  track(end: () => void): () => void {
    if (this.ended) {
      end();
      return () => undefined;
    }
    this.enders.add(end);
    return () => this.enders.delete(end);
  }

  endAll(): void {
    this.drainingValue = true;
    this.ended = true;
    const enders = [...this.enders];
    this.enders.clear();
    for (const end of enders) end();
  }
}
