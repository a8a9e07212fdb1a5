import { randomBytes } from 'node:crypto';

/** Unique correlation ids: a random per-generator prefix and a counter (cheap, like a NUID). */
export class CorrelationIds {
  private readonly prefix = randomBytes(9).toString('base64url');
  private counter = 0;

  next(): string {
    this.counter += 1;
    return `${this.prefix}${this.counter.toString(36)}`;
  }
}
