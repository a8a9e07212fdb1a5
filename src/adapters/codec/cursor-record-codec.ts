import { CursorRecord, CursorRecords } from '../../application/ports/cursor-records.port';
import { RecordBatch } from '../../application/ports/partition-log.port';
import { decodeInternalMessage, encodeInternalMessage } from './internal-proto';
import { decodeMessageSet } from './message-set-decode';

/**
 * Cursors as the Go server stores them (docs/consumers.md "Cursors"): the record key is the cursor
 * key in UTF-8, the value a `protocol.Cursor` protobuf, so a `__cursors` log is readable by both.
 */
export const protobufCursorRecords: CursorRecords = {
  encode(cursor: CursorRecord): Uint8Array {
    return encodeInternalMessage('Cursor', { ...cursor, offset: BigInt(cursor.offset) });
  },

  latestIn(batch: RecordBatch, key: string): number | null {
    const wanted = Buffer.from(key, 'utf8');
    const entries = decodeMessageSet(batch.bytes);
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i]!;
      if (entry.key === null || entry.value === null || !entry.key.equals(wanted)) continue;
      const offset = decodeInternalMessage('Cursor', entry.value)['offset'];
      return Number(offset as bigint | number);
    }
    return null;
  },
};
