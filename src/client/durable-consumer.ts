import { StartPosition, type CursorAddress, type ReceivedMessage, type SetCursorOptions, type SubscribeOptions } from './types';

/** What a durable consumer needs from the client (`LiftbridgeClient` has it). */
export interface CursorClient {
  fetchCursor(cursor: CursorAddress): Promise<bigint>;
  setCursor(cursor: CursorAddress & { readonly offset: bigint }, options?: SetCursorOptions): Promise<void>;
  subscribe(stream: string, options: SubscribeOptions): AsyncIterable<ReceivedMessage> & { close(): void };
}

/** Timers, replaceable in tests. */
export interface CheckpointTimer {
  every(ms: number, fn: () => void): { cancel(): void };
}

const realTimer: CheckpointTimer = {
  every(ms, fn) {
    const handle = setInterval(fn, ms);
    handle.unref?.();
    return { cancel: () => clearInterval(handle) };
  },
};

export interface DurableConsumerOptions {
  /** The cursor id: one per consumer application. */
  readonly id: string;
  readonly stream: string;
  readonly partition?: number;
  /** Where to start when the cursor was never set (default NEW_ONLY, as go-liftbridge's auto offset). */
  readonly whenNoCursor?: StartPosition.EARLIEST | StartPosition.LATEST | StartPosition.NEW_ONLY;
  /** Checkpoint after this many processed messages (default 100; 0 = not by count). */
  readonly checkpointEveryMessages?: number;
  /** Checkpoint this often when something was processed since the last one (default 5000 ms, as go-liftbridge; 0 = not by time). */
  readonly checkpointEveryMs?: number;
}

/**
 * A consumer that resumes where it stopped (docs/consumers.md "Cursors"): it reads the partition
 * from its cursor + 1 and stores, as the cursor, the offset of the last message processed. A
 * message counts as processed when the next one is asked for, or when the iteration ends
 * (`break`, `close()`): the loop body ran for it. Checkpoints are taken by count, by time and on
 * close; a crash replays at most what came after the last checkpoint (at-least-once).
 */
export class DurableConsumer implements AsyncIterable<ReceivedMessage> {
  private processed: bigint | null = null;
  private checkpointed: bigint | null = null;
  private sinceCheckpoint = 0;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  private subscription: (AsyncIterable<ReceivedMessage> & { close(): void }) | null = null;
  private readonly cursor: CursorAddress;

  constructor(
    private readonly client: CursorClient,
    private readonly options: DurableConsumerOptions,
    private readonly timer: CheckpointTimer = realTimer,
  ) {
    this.cursor = { id: options.id, stream: options.stream, partition: options.partition ?? 0 };
  }

  /** The offset last stored as the cursor by this consumer, or null before its first checkpoint. */
  get lastCheckpoint(): bigint | null {
    return this.checkpointed;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    const stored = await this.client.fetchCursor(this.cursor);
    const start: SubscribeOptions =
      stored >= 0n ? { startOffset: stored + 1n } : { startPosition: this.options.whenNoCursor ?? StartPosition.NEW_ONLY };
    this.subscription = this.client.subscribe(this.options.stream, { partition: this.cursor.partition, ...start });
    const everyMs = this.options.checkpointEveryMs ?? 5000;
    const ticking = everyMs > 0 ? this.timer.every(everyMs, () => void this.checkpoint().catch(() => undefined)) : null;
    let inHand: ReceivedMessage | null = null;
    try {
      for await (const message of this.subscription) {
        if (inHand !== null) await this.markProcessed(inHand.offset);
        if (this.closed) break;
        inHand = message;
        yield message;
      }
    } finally {
      ticking?.cancel();
      this.subscription.close();
      if (inHand !== null) this.processed = inHand.offset;
      await this.checkpoint();
    }
  }

  /** Ends the iteration after the message in hand (checkpointed on the way out). */
  close(): void {
    this.closed = true;
    this.subscription?.close();
  }

  /** Stores the last processed offset now, if it moved since the last checkpoint. */
  checkpoint(): Promise<void> {
    this.writing = this.writing.catch(() => undefined).then(async () => {
      const offset = this.processed;
      if (offset === null || offset === this.checkpointed) return;
      await this.client.setCursor({ ...this.cursor, offset });
      this.checkpointed = offset;
      this.sinceCheckpoint = 0;
    });
    return this.writing;
  }

  private async markProcessed(offset: bigint): Promise<void> {
    this.processed = offset;
    this.sinceCheckpoint++;
    const everyMessages = this.options.checkpointEveryMessages ?? 100;
    if (everyMessages > 0 && this.sinceCheckpoint >= everyMessages) await this.checkpoint();
  }
}
