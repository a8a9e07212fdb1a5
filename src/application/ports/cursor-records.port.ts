import { RecordBatch } from './partition-log.port';

/** One cursor, as written into `__cursors` (the `Cursor` message of proto/internal.proto). */
export interface CursorRecord {
  readonly stream: string;
  readonly partition: number;
  readonly cursorId: string;
  readonly offset: number;
}

/** How cursors are stored in `__cursors` records (docs/consumers.md "Cursors"). */
export interface CursorRecords {
  /** The record value of `cursor`. */
  encode(cursor: CursorRecord): Uint8Array;
  /** The offset stored by the last record of `batch` whose key is `key`; null when none has it. */
  latestIn(batch: RecordBatch, key: string): number | null;
}
