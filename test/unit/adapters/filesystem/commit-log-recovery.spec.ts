/**
 * Crash and corruption recovery of the filesystem commit log (docs/storage.md "Recovery (open)"; docs/reliability.md "Bad inputs"
 * D1-D15). Every case is generated from a seed: a failing case names its seed and damage so it
 * replays exactly. Each case writes records across several segments, closes, damages the files,
 * reopens and checks: opening never throws, every record before the damage reads back intact,
 * nothing past a torn tail is served, a damaged record is refused on read without losing what
 * precedes or follows it, and appends continue at newest + 1.
 */
import { appendFile, cp, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../../../src/application/ports/logger.port';
import { SegmentCorruptedError } from '../../../../src/application/ports/partition-log.errors';
import { NewRecord, PartitionLog, PartitionLogOptions } from '../../../../src/application/ports/partition-log.port';
import { DecodedEntry, decodeMessageSet } from '../../../../src/adapters/codec/message-set';
import { FilesystemPartitionLogStore } from '../../../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';

const ref = { stream: 'crash', partition: 0 };
const options: PartitionLogOptions = {
  segmentMaxBytes: 700,
  segmentMaxAgeMs: 0,
  retentionMaxBytes: 0,
  retentionMaxMessages: 0,
  retentionMaxAgeMs: 0,
  syncPolicy: 'never', // recovery is what is under test; the data is synced by close
  syncIntervalMs: 1,
};

interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}
function captureLogger(lines: LogLine[]): Logger {
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

/** mulberry32: small, fast, good enough to drive test cases. */
function prng(seed: number): { int(maxExclusive: number): number; bytes(n: number): Buffer } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (max) => Math.floor(next() * max),
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
  };
}

type Rng = ReturnType<typeof prng>;

interface Written {
  dir: string;
  dataDir: string;
  entries: DecodedEntry[];
  /** Segment bases in order; the last is active. */
  bases: number[];
  /** Byte position of each record inside its segment file. */
  positions: number[];
  highWatermark: number;
}

const segmentPath = (dir: string, base: number, suffix: '.log' | '.index') => join(dir, `${String(base).padStart(20, '0')}${suffix}`);

function randomRecord(rng: Rng, i: number): NewRecord {
  const valueLen = rng.int(6) === 0 ? -1 : rng.int(80);
  return {
    key: rng.int(3) === 0 ? null : Buffer.from(`key-${i}`),
    value: valueLen < 0 ? null : rng.bytes(valueLen),
    headers: rng.int(3) === 0 ? { trace: rng.bytes(rng.int(10)) } : null,
    subject: 'crash.subject',
    reply: rng.int(2) === 0 ? '' : `_INBOX.${i}`,
  };
}

async function writeLog(rng: Rng, logger: Logger): Promise<Written> {
  const dataDir = await mkdtemp(join(tmpdir(), 'liftbridge-recovery-'));
  const store = new FilesystemPartitionLogStore({ dataDir, logger });
  const log = await store.open(ref, options);
  let epoch = 1;
  for (let i = 0; log.newestOffset < 40; i++) {
    if (rng.int(4) === 0) epoch++;
    const batch = Array.from({ length: 1 + rng.int(3) }, (_, j) => randomRecord(rng, i * 10 + j));
    await log.append(batch, BigInt(1_000 + i) * 1_000_000n, epoch).durable;
  }
  const highWatermark = rng.int(log.newestOffset + 1);
  log.setHighWatermark(highWatermark);
  const entries = await readEverything(log);
  await log.close();
  const dir = join(dataDir, 'streams', ref.stream, String(ref.partition));
  const bases = (await readdir(dir)).filter((n) => n.endsWith('.log')).map((n) => Number(n.slice(0, 20))).sort((a, b) => a - b);
  const positions: number[] = [];
  for (let s = 0; s < bases.length; s++) {
    let pos = 0;
    for (const e of entries) {
      if (e.offset < bases[s]! || (s + 1 < bases.length && e.offset >= bases[s + 1]!)) continue;
      positions[e.offset] = pos;
      pos += e.entryBytes;
    }
  }
  expect(bases.length).toBeGreaterThanOrEqual(3);
  return { dir, dataDir, entries, bases, positions, highWatermark };
}

async function readEverything(log: PartitionLog): Promise<DecodedEntry[]> {
  const entries: DecodedEntry[] = [];
  for (let next = 0; ; ) {
    const batch = await log.read(next, log.newestOffset, 1 << 20);
    if (batch === null) return entries;
    entries.push(...decodeMessageSet(batch.bytes));
    next = batch.lastOffset + 1;
  }
}

/** One record as served: the decoded entry, 'corrupt' (SegmentCorruptedError) or null (absent). */
async function readOne(log: PartitionLog, offset: number): Promise<DecodedEntry | 'corrupt' | null> {
  try {
    const batch = await log.read(offset, offset, 1);
    if (batch === null) return null;
    const [entry] = decodeMessageSet(batch.bytes);
    expect(entry!.offset).toBe(offset);
    return entry!;
  } catch (e) {
    if (e instanceof SegmentCorruptedError) return 'corrupt';
    throw e;
  }
}

const sameRecord = (a: DecodedEntry, b: DecodedEntry) =>
  a.offset === b.offset && a.timestampNs === b.timestampNs && a.leaderEpoch === b.leaderEpoch && sameMessage(a, b);
const sameMessage = (a: DecodedEntry, b: DecodedEntry) =>
  String(a.key) === String(b.key) && String(a.value) === String(b.value) && JSON.stringify(a.headers) === JSON.stringify(b.headers);

/** What a damage did, in record terms. */
interface Damage {
  description: string;
  /** First record that may be affected (Infinity when records are untouched). */
  firstDamagedOffset: number;
  /** Records at or after this offset may be refused (corrupt) or dropped, up to `untilOffset` (exclusive). */
  untilOffset: number;
  /** The damaged record may come back with another timestamp or epoch (the 28-byte header has no CRC). */
  headerOnly: boolean;
  /** Expected newest offset after recovery when it is exact. */
  exactNewest?: number;
}

const kinds = [
  'cut-active',
  'zero-tail',
  'garbage-tail',
  'flip-active',
  'flip-sealed',
  'truncate-sealed',
  'flip-index',
  'cut-index',
  'delete-index',
  'garble-checkpoints',
] as const;
type Kind = (typeof kinds)[number];

async function damage(kind: Kind, rng: Rng, w: Written): Promise<Damage> {
  const active = w.bases[w.bases.length - 1]!;
  const last = w.entries[w.entries.length - 1]!.offset;
  const untouched = { firstDamagedOffset: Infinity, untilOffset: Infinity, headerOnly: false };
  const segmentEnd = (base: number) => w.bases[w.bases.indexOf(base) + 1] ?? Infinity;
  const recordAt = (base: number, byte: number) =>
    w.entries.filter((e) => e.offset >= base && e.offset < segmentEnd(base)).find((e) => byte < w.positions[e.offset]! + e.entryBytes)!;
  switch (kind) {
    case 'cut-active': {
      const path = segmentPath(w.dir, active, '.log');
      const size = (await stat(path)).size;
      const at = rng.int(size + 1);
      await truncate(path, at);
      const intact = w.entries.filter((e) => e.offset >= active && w.positions[e.offset]! + e.entryBytes <= at);
      const newest = intact.length === 0 ? active - 1 : intact[intact.length - 1]!.offset;
      return { description: `active log cut at byte ${at} of ${size}`, firstDamagedOffset: newest + 1, untilOffset: Infinity, headerOnly: false, exactNewest: newest };
    }
    case 'zero-tail':
    case 'garbage-tail': {
      const n = 1 + rng.int(4096);
      await appendFile(segmentPath(w.dir, active, '.log'), kind === 'zero-tail' ? Buffer.alloc(n) : rng.bytes(n));
      return { description: `${n}-byte ${kind}`, ...untouched, exactNewest: last };
    }
    case 'flip-active':
    case 'flip-sealed': {
      const base = kind === 'flip-active' ? active : w.bases[rng.int(w.bases.length - 1)]!;
      const path = segmentPath(w.dir, base, '.log');
      const bytes = await readFile(path);
      if (bytes.length === 0) return { description: 'empty segment, nothing to flip', ...untouched };
      const at = rng.int(bytes.length);
      bytes[at] ^= 1 << rng.int(8);
      await writeFile(path, bytes);
      const record = recordAt(base, at);
      const inRecord = at - w.positions[record.offset]!;
      return {
        description: `bit flip at byte ${at} of ${path.slice(-24)} (record ${record.offset}, byte ${inRecord})`,
        firstDamagedOffset: record.offset,
        // Only the flipped record may be refused: the records after it are intact and served (or,
        // when it was the last of the active segment, cut with it as a torn tail).
        untilOffset: record.offset + 1,
        headerOnly: inRecord >= 8 && inRecord < 24,
      };
    }
    case 'truncate-sealed': {
      const base = w.bases[rng.int(w.bases.length - 1)]!;
      const path = segmentPath(w.dir, base, '.log');
      const size = (await stat(path)).size;
      const at = rng.int(size);
      await truncate(path, at);
      const record = recordAt(base, at);
      return { description: `sealed ${base} cut at byte ${at}`, firstDamagedOffset: record.offset, untilOffset: segmentEnd(base), headerOnly: false };
    }
    case 'flip-index':
    case 'cut-index':
    case 'delete-index': {
      const base = w.bases[rng.int(w.bases.length)]!;
      const path = segmentPath(w.dir, base, '.index');
      if (kind === 'delete-index') await unlink(path);
      else {
        const bytes = await readFile(path);
        if (bytes.length === 0) return { description: 'empty index', ...untouched, exactNewest: last };
        if (kind === 'cut-index') await truncate(path, rng.int(bytes.length));
        else {
          bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
          await writeFile(path, bytes);
        }
      }
      return { description: `${kind} of segment ${base}`, ...untouched, exactNewest: last };
    }
    case 'garble-checkpoints': {
      const hw = ['', 'garbage', '999999', '-7', rng.bytes(12).toString('latin1')][rng.int(5)]!;
      const epochs = ['', 'x', '0\n5\n1 0\n', '0\n2\n5 0\n3 9\n', '1\n0\n', rng.bytes(30).toString('latin1'), '0\n1\n9 999999\n'][rng.int(7)]!;
      await writeFile(join(w.dir, 'replication-offset-checkpoint'), hw);
      await writeFile(join(w.dir, 'leader-epoch-checkpoint'), epochs);
      return { description: `checkpoints garbled: hw ${JSON.stringify(hw)}, epochs ${JSON.stringify(epochs)}`, ...untouched, exactNewest: last };
    }
  }
}

async function checkRecovered(log: PartitionLog, w: Written, d: Damage): Promise<void> {
  if (d.exactNewest !== undefined) expect(log.newestOffset).toBe(d.exactNewest);
  expect(log.newestOffset).toBeGreaterThanOrEqual(Math.min(d.firstDamagedOffset, w.entries.length) - 1);
  expect(log.highWatermark).toBeLessThanOrEqual(log.newestOffset);
  expect(log.durableOffset).toBe(log.newestOffset);
  for (const expected of w.entries) {
    const o = expected.offset;
    const served = await readOne(log, o);
    if (o < d.firstDamagedOffset || o >= d.untilOffset) {
      if (o > log.newestOffset) break; // only a torn tail drops records, checked by exactNewest
      expect(served === 'corrupt' || served === null ? served : sameRecord(served, expected)).toBe(true);
    } else if (served !== null && served !== 'corrupt') {
      const acceptable = sameRecord(served, expected) || (d.headerOnly && o === d.firstDamagedOffset && sameMessage(served, expected));
      expect(acceptable).toBe(true);
    }
  }
  expect(await log.read(log.newestOffset + 1, Number.MAX_SAFE_INTEGER, 1 << 20)).toBeNull();
}

/** Pristine logs are written once per layout seed and copied for every case (writing dominates the cost). */
const LAYOUTS = 5;
const SEEDS_PER_KIND = 8;
const cases = kinds.flatMap((kind, k) => Array.from({ length: SEEDS_PER_KIND }, (_, i) => ({ kind, seed: 1000 * (k + 1) + i })));

async function copyOf(pristine: Written): Promise<Written> {
  const dataDir = await mkdtemp(join(tmpdir(), 'liftbridge-recovery-'));
  await cp(pristine.dataDir, dataDir, { recursive: true });
  return { ...pristine, dataDir, dir: join(dataDir, 'streams', ref.stream, String(ref.partition)) };
}

describe('commit log recovery after damage', () => {
  const layouts: Written[] = [];
  beforeAll(async () => {
    for (let i = 0; i < LAYOUTS; i++) layouts.push(await writeLog(prng(i + 1), captureLogger([])));
  });
  afterAll(async () => {
    for (const w of layouts) await rm(w.dataDir, { recursive: true, force: true });
  });

  it.each(cases)('$kind (seed $seed)', async ({ kind, seed }) => {
    const rng = prng(seed);
    const lines: LogLine[] = [];
    const logger = captureLogger(lines);
    const w = await copyOf(layouts[seed % LAYOUTS]!);
    try {
      const d = await damage(kind, rng, w);
      lines.length = 0;
      const store = new FilesystemPartitionLogStore({ dataDir: w.dataDir, logger });
      const log = await store.open(ref, options);
      try {
        await checkRecovered(log, w, d);
      } catch (e) {
        throw new Error(`seed ${seed}, ${d.description}: ${(e as Error).message}\nlog lines: ${JSON.stringify(lines)}`);
      }
      if (d.exactNewest !== undefined && d.exactNewest < w.entries.length - 1) {
        const cut = lines.find((l) => l.msg.includes('cut the torn tail'));
        expect(cut?.level).toBe('warn');
        expect(cut?.obj).toEqual(expect.objectContaining({ lastValidOffset: d.exactNewest, position: expect.any(Number), bytesCut: expect.any(Number) }));
      }
      // Appends continue at newest + 1, and a second recovery finds nothing left to repair.
      const newest = log.newestOffset;
      const next = log.append([randomRecord(rng, 999)], 10_000_000_000n, log.lastLeaderEpoch + 1);
      expect(next.firstOffset).toBe(newest + 1);
      await next.durable;
      await log.close();
      lines.length = 0;
      const again = await new FilesystemPartitionLogStore({ dataDir: w.dataDir, logger }).open(ref, options);
      expect(again.newestOffset).toBe(newest + 1);
      expect(lines.filter((l) => l.msg.includes('cut the torn'))).toEqual([]);
      const appended = await readOne(again, newest + 1);
      expect(appended === null || appended === 'corrupt' ? appended : appended.offset).toBe(newest + 1);
      await again.close();
    } finally {
      await rm(w.dataDir, { recursive: true, force: true });
    }
  });
});
