/**
 * One seeded power-loss run of the real filesystem commit log (docs/testing.md "Power loss";
 * docs/reliability.md "Scenarios" 7, 21 and 25, "Bad inputs" D1-D4): random appends of various sizes over
 * small segments (rolls), truncations, leader epochs, high-watermark checkpoints, and a disk that
 * fills up and frees again (the log fails and recovers by itself), with the power cut at a random
 * operation of the simulated disk (often in the middle of a flush or of a recovery), then a reopen
 * on what survived and these checks:
 *
 * - every acknowledged record (its `durable` resolved) is present and identical, unless a
 *   truncation asked for after it removed it ("acked" below; under `interval`/`never` the losses
 *   are counted instead: those policies acknowledge before fsync);
 * - every record served is one that was appended at that offset (no garbage, no torn record), the
 *   offsets are contiguous, and nothing a completed truncation removed comes back;
 * - the log continues right after the recovered end, and the epoch cache covers what survived.
 *
 * Runs under jest fake timers (the high-watermark checkpoint and interval sync timers fire when the
 * run advances the clock), so a seed replays exactly.
 */
import { Logger } from '../../../src/application/ports/logger.port';
import { PartitionLog, PartitionLogOptions, SyncPolicy } from '../../../src/application/ports/partition-log.port';
import { FilesystemPartitionLogStore } from '../../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';
import { DecodedEntry, decodeMessageSet } from '../../../src/adapters/codec/message-set';
import { seededPrng } from '../../../src/domain/shared/prng';
import { PowerLossFileSystem } from './power-loss-file-system';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const ref = { stream: 's', partition: 0 };
const SYNC_INTERVAL_MS = 50;

/** One appended record: the key is unique per record, so a version is known by its key. */
interface Version {
  readonly key: string;
  readonly value: Buffer | null;
  readonly epoch: number;
  readonly timestampNs: bigint;
  /** Position of its append among the run's actions. */
  readonly step: number;
  acked: boolean;
}

interface Truncation {
  readonly offset: number;
  readonly step: number;
  done: boolean;
}

export interface CrashRunResult {
  readonly acked: number;
  /** Acknowledged records the power cut took (always 0 under `always`, or the run throws). */
  readonly lost: number;
  readonly recovered: number;
  readonly diskOperations: number;
}

/** `openFilesMax`: the store's descriptor budget; a small one makes every operation reopen its files (docs/storage.md "Open files"). */
export async function runPartitionLogCrash(seed: number, syncPolicy: SyncPolicy, openFilesMax?: number): Promise<CrashRunResult> {
  const prng = seededPrng(seed);
  const disk = new PowerLossFileSystem({ seed: seed ^ 0x5eed });
  const options: PartitionLogOptions = {
    segmentMaxBytes: 150 + prng.nextInt(3000),
    segmentMaxAgeMs: 0,
    retentionMaxBytes: 0,
    retentionMaxMessages: 0,
    retentionMaxAgeMs: 0,
    syncPolicy,
    syncIntervalMs: SYNC_INTERVAL_MS,
  };
  const openLog = () =>
    new FilesystemPartitionLogStore({ dataDir: '/data', logger: silent, fs: disk.mount(), highWatermarkCheckpointIntervalMs: 1000, ...(openFilesMax !== undefined ? { openFilesMax } : {}) }).open(ref, options);
  const log = await openLog();
  const versions = new Map<number, Version[]>();
  const truncations: Truncation[] = [];
  const pending: Promise<unknown>[] = [];
  disk.crashAtOperation(1 + prng.nextInt(600));
  let epoch = 1;
  let timestampNs = 1_000n;
  const steps = 10 + prng.nextInt(90);
  for (let step = 0; step < steps && disk.crashes === 0; step++) {
    const action = prng.nextInt(100);
    if (action < 60) {
      const count = 1 + prng.nextInt(4);
      const records = Array.from({ length: count }, (_, i) => {
        const size = prng.nextInt(8) === 0 ? prng.nextInt(2000) : prng.nextInt(120);
        const value = prng.nextInt(10) === 0 ? null : Buffer.alloc(size, 65 + ((step + i) % 26));
        return { key: Buffer.from(`k${step}.${i}`), value, headers: null, subject: 's', reply: '' };
      });
      timestampNs += BigInt(1 + prng.nextInt(1000));
      let appended;
      try {
        appended = log.append(records, timestampNs, epoch);
      } catch {
        continue; // the log failed (a full disk) and refuses appends until it recovered
      }
      const batch = records.map((r): Version => ({ key: r.key.toString(), value: r.value, epoch, timestampNs, step, acked: false }));
      batch.forEach((v, i) => versionsAt(versions, appended.firstOffset + i).push(v));
      const last = appended.lastOffset;
      pending.push(
        appended.durable.then(
          () => {
            for (const v of batch) v.acked = true;
            // As a single-replica leader does; a later truncation may have lowered the durable offset.
            if (last <= log.durableOffset && last > log.highWatermark) log.setHighWatermark(last);
          },
          () => undefined,
        ),
      );
    } else if (action < 70 && log.newestOffset >= 0) {
      const offset = Math.max(0, log.newestOffset - prng.nextInt(12));
      const truncation: Truncation = { offset, step, done: false };
      truncations.push(truncation);
      const truncated = log.truncateFrom(offset).then(
        () => void (truncation.done = true),
        () => undefined,
      );
      pending.push(truncated);
      if (prng.nextInt(2) === 0) await truncated;
    } else if (action < 78) {
      epoch += 1 + prng.nextInt(2);
      log.beginLeaderEpoch(epoch);
    } else if (action < 83) {
      jest.advanceTimersByTime(prng.nextInt(3000)); // high-watermark checkpoints, interval syncs, recovery attempts
    } else if (action < 86) {
      disk.capacityBytes = disk.capacityBytes === Number.POSITIVE_INFINITY ? disk.usedBytes() + prng.nextInt(3000) : Number.POSITIVE_INFINITY;
    } else if (prng.nextInt(3) === 0) {
      await Promise.all(pending);
    } else {
      for (let i = prng.nextInt(30); i > 0; i--) await Promise.resolve();
    }
  }
  if (disk.crashes === 0) {
    if (prng.nextInt(2) === 0) await Promise.all(pending);
    disk.crash();
  }
  const operations = disk.operationCount;
  await Promise.all(pending); // everything of the old process settles (rejected after the cut)
  void log.close().catch(() => undefined);
  disk.capacityBytes = Number.POSITIVE_INFINITY; // the restart finds room (opening on a full disk is not what this checks)

  const reopened = await openLog();
  try {
    return { ...(await check(reopened, versions, truncations, syncPolicy)), diskOperations: operations };
  } finally {
    await reopened.close();
  }
}

function versionsAt(versions: Map<number, Version[]>, offset: number): Version[] {
  let list = versions.get(offset);
  if (list === undefined) versions.set(offset, (list = []));
  return list;
}

async function check(log: PartitionLog, versions: Map<number, Version[]>, truncations: readonly Truncation[], policy: SyncPolicy): Promise<Omit<CrashRunResult, 'diskOperations'>> {
  const entries = await readEverything(log);
  const byOffset = new Map(entries.map((e) => [e.offset, e]));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.offset !== entries[i - 1]!.offset + 1) throw new Error(`gap: offset ${entries[i]!.offset} follows ${entries[i - 1]!.offset}`);
  }
  if (entries.length > 0 && (entries[0]!.offset !== log.oldestOffset || entries[entries.length - 1]!.offset !== log.newestOffset)) {
    throw new Error(`served offsets ${entries[0]!.offset}-${entries[entries.length - 1]!.offset} differ from the log's ${log.oldestOffset}-${log.newestOffset}`);
  }
  let maxEpoch = 0;
  for (const entry of entries) {
    const version = (versions.get(entry.offset) ?? []).find((v) => v.key === entry.key?.toString());
    if (version === undefined) throw new Error(`offset ${entry.offset} serves a record never appended there (key ${entry.key?.toString() ?? 'null'})`);
    if (!sameRecord(entry, version)) throw new Error(`offset ${entry.offset} serves ${version.key} with different content`);
    const removedBy = truncations.find((t) => t.done && t.offset <= entry.offset && t.step > version.step);
    if (removedBy !== undefined) throw new Error(`offset ${entry.offset} (${version.key}) came back after the truncation from ${removedBy.offset} completed`);
    maxEpoch = Math.max(maxEpoch, entry.leaderEpoch);
  }
  if (log.lastLeaderEpoch < maxEpoch) throw new Error(`the epoch cache ends at ${log.lastLeaderEpoch}, records have epoch ${maxEpoch}`);
  if (log.highWatermark > log.newestOffset) throw new Error(`high watermark ${log.highWatermark} is past the newest offset ${log.newestOffset}`);

  let acked = 0;
  let lost = 0;
  for (const [offset, list] of versions) {
    const latest = list[list.length - 1]!;
    if (!latest.acked || truncations.some((t) => t.offset <= offset && t.step > latest.step)) continue;
    acked++;
    if (byOffset.get(offset)?.key?.toString() === latest.key) continue;
    if (policy === 'always') throw new Error(`acknowledged record ${latest.key} at offset ${offset} was lost`);
    lost++;
  }

  const end = entries.length > 0 ? entries[entries.length - 1]!.offset : log.newestOffset;
  const next = log.append([{ key: Buffer.from('after'), value: Buffer.from('x'), headers: null, subject: 's', reply: '' }], 1n << 60n, log.lastLeaderEpoch);
  if (next.firstOffset !== end + 1) throw new Error(`the log continues at ${next.firstOffset}, not right after its recovered end ${end}`);
  await next.durable;
  const readBack = await log.read(next.firstOffset, next.firstOffset, 1 << 20);
  if (readBack === null || decodeMessageSet(readBack.bytes)[0]?.key?.toString() !== 'after') throw new Error('the record appended after recovery does not read back');
  return { acked, lost, recovered: entries.length };
}

async function readEverything(log: PartitionLog): Promise<DecodedEntry[]> {
  const entries: DecodedEntry[] = [];
  for (let next = log.oldestOffset; next >= 0 && next <= log.newestOffset; ) {
    const batch = await log.read(next, log.newestOffset, 1 << 16);
    if (batch === null) throw new Error(`nothing served at ${next}, the log ends at ${log.newestOffset}`);
    entries.push(...decodeMessageSet(batch.bytes));
    next = batch.lastOffset + 1;
  }
  return entries;
}

function sameRecord(entry: DecodedEntry, version: Version): boolean {
  const sameValue = entry.value === null ? version.value === null : version.value !== null && entry.value.equals(version.value);
  return sameValue && entry.leaderEpoch === version.epoch && entry.timestampNs === version.timestampNs;
}
