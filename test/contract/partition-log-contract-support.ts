/**
 * Helpers shared by the partition-log contract files; adapter authors may use them in their own
 * tests too (they are re-exported from partition-log.contract.ts).
 */
import { NewRecord, PartitionLog, PartitionLogOptions, PartitionLogStore, RecordBatch } from '../../src/application/ports/partition-log.port';
import { PartitionRef } from '../../src/domain/shared/ids';
import { DecodedEntry, decodeMessageSet } from '../../src/adapters/codec/message-set';

export interface PartitionLogContractHarness {
  readonly store: PartitionLogStore;
  readonly reopen?: () => Promise<PartitionLogStore>;
  readonly cleanup: () => Promise<void>;
  /** Makes the store's disk full and frees it again (runners that pass `{ storageFaults: true }`). */
  readonly storageFaults?: { fill(): void; free(): void };
}

export type MakePartitionLogStore = () => Promise<PartitionLogContractHarness>;

export const contractOptions = (overrides: Partial<PartitionLogOptions> = {}): PartitionLogOptions => ({
  segmentMaxBytes: 1 << 20,
  segmentMaxAgeMs: 0,
  retentionMaxBytes: 0,
  retentionMaxMessages: 0,
  retentionMaxAgeMs: 0,
  syncPolicy: 'always',
  syncIntervalMs: 5,
  ...overrides,
});

export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
export const MS = 1_000_000n;

export const aRecord = (value: string | null, more: Partial<NewRecord> = {}): NewRecord => ({
  key: null,
  value: value === null ? null : utf8(value),
  headers: null,
  subject: 'orders',
  reply: '',
  ...more,
});

/** Appends `records` as one batch and waits until they are durable. */
export async function appendDurably(log: PartitionLog, records: NewRecord[], timestampNs: bigint, epoch: number) {
  const pending = log.append(records, timestampNs, epoch);
  await pending.durable;
  return pending;
}

/** Reads every entry in [from, maxOffset], batch after batch, and decodes them. */
export async function readAll(log: PartitionLog, from = 0, maxOffset = log.newestOffset, maxBytes = 1 << 20) {
  const entries: DecodedEntry[] = [];
  for (let next = from; ; ) {
    const batch = await log.read(next, maxOffset, maxBytes);
    if (batch === null) return entries;
    expectBatchConsistent(batch);
    entries.push(...decodeMessageSet(batch.bytes));
    next = batch.lastOffset + 1;
  }
}

export function expectBatchConsistent(batch: RecordBatch): void {
  const entries = decodeMessageSet(batch.bytes);
  expect(entries.length).toBe(batch.count);
  expect(entries[0]!.offset).toBe(batch.firstOffset);
  expect(entries[entries.length - 1]!.offset).toBe(batch.lastOffset);
}

export const values = (entries: DecodedEntry[]): (string | null)[] => entries.map((e) => (e.value === null ? null : e.value.toString()));
export const offsets = (entries: DecodedEntry[]): number[] => entries.map((e) => e.offset);

/** What the contract sections share for the test that is running. */
export interface ContractContext {
  readonly harness: PartitionLogContractHarness;
  readonly ref: PartitionRef;
  open(options?: Partial<PartitionLogOptions>, store?: PartitionLogStore): Promise<PartitionLog>;
  /** Appends one record per call (each its own batch), values v0..v{n-1}. */
  appendSingles(log: PartitionLog, n: number, epochOf?: (i: number) => number, tsOf?: (i: number) => bigint): Promise<void>;
}
