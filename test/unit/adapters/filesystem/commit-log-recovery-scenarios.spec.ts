/**
 * Named recovery scenarios (docs/reliability.md "Bad inputs", table D) that the seeded damage loop in
 * commit-log-recovery.spec.ts does not aim at precisely.
 */
import { appendFile, mkdtemp, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../../../src/application/ports/logger.port';
import { SegmentCorruptedError } from '../../../../src/application/ports/partition-log.errors';
import { PartitionLog, PartitionLogOptions } from '../../../../src/application/ports/partition-log.port';
import { decodeMessageSet } from '../../../../src/adapters/codec/message-set';
import { FilesystemPartitionLogStore } from '../../../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';

const ref = { stream: 'scenario', partition: 0 };
const options: PartitionLogOptions = {
  segmentMaxBytes: 200,
  segmentMaxAgeMs: 0,
  retentionMaxBytes: 0,
  retentionMaxMessages: 0,
  retentionMaxAgeMs: 0,
  syncPolicy: 'never',
  syncIntervalMs: 1,
};
const name = (base: number, suffix: string) => `${String(base).padStart(20, '0')}${suffix}`;

type Line = { level: string; obj: Record<string, unknown>; msg: string };

describe('commit log recovery scenarios (bad inputs D6, D10-D15)', () => {
  let dataDir: string;
  let dir: string;
  let lines: Line[];
  const logger: Logger = {
    debug: (obj, msg) => lines.push({ level: 'debug', obj: obj as Record<string, unknown>, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg }),
    child: () => logger,
  };
  const open = () => new FilesystemPartitionLogStore({ dataDir, logger }).open(ref, options);

  /** 12 records (epochs 1, then 2 from offset 6), HW 9, about 4 segments; returns the segment bases. */
  async function writeTwelve(): Promise<number[]> {
    const log = await open();
    for (let i = 0; i < 12; i++) {
      await log.append([{ key: null, value: Buffer.from(`value-${i}`), headers: null, subject: 's', reply: '' }], BigInt(i), i < 6 ? 1 : 2).durable;
    }
    log.setHighWatermark(9);
    await log.close();
    lines = [];
    return (await readdir(dir)).filter((n) => n.endsWith('.log')).map((n) => Number(n.slice(0, 20))).sort((a, b) => a - b);
  }

  async function valueAt(log: PartitionLog, offset: number): Promise<string | 'corrupt' | null> {
    try {
      const batch = await log.read(offset, offset, 1);
      return batch === null ? null : decodeMessageSet(batch.bytes)[0]!.value!.toString();
    } catch (e) {
      if (e instanceof SegmentCorruptedError) return 'corrupt';
      throw e;
    }
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'liftbridge-scenarios-'));
    dir = join(dataDir, 'streams', ref.stream, String(ref.partition));
    lines = [];
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('D6: a size field near 2^31 in the tail is cut as corruption, without allocating it', async () => {
    const bases = await writeTwelve();
    const header = Buffer.alloc(28);
    header.writeUInt32BE(12, 4); // offset 12: the next expected one
    header.writeUInt32BE(0x7ffffff0, 24);
    await appendFile(join(dir, name(bases[bases.length - 1]!, '.log')), header);
    const log = await open();
    expect(log.newestOffset).toBe(11);
    expect(lines.find((l) => l.msg.includes('cut the torn'))?.obj).toEqual(expect.objectContaining({ bytesCut: 28, lastValidOffset: 11, defect: 'bad-size' }));
    await log.close();
  });

  it('D10: index entries past the log end are dropped and the index rebuilt', async () => {
    const bases = await writeTwelve();
    const active = bases[bases.length - 1]!;
    await appendFile(join(dir, name(active, '.index')), Buffer.alloc(60, 7));
    const log = await open();
    expect(log.newestOffset).toBe(11);
    for (let o = 0; o < 12; o++) expect(await valueAt(log, o)).toBe(`value-${o}`);
    await log.close();
    expect((await stat(join(dir, name(active, '.index')))).size % 20).toBe(0);
    expect((await stat(join(dir, name(active, '.index')))).size).toBe((12 - active) * 20);
  });

  it('D11: a missing middle segment is refused on read, never renumbered or deleted', async () => {
    const bases = await writeTwelve();
    expect(bases.length).toBeGreaterThanOrEqual(3);
    const missing = bases[1]!;
    await unlink(join(dir, name(missing, '.log')));
    await unlink(join(dir, name(missing, '.index')));
    const log = await open();
    expect([log.oldestOffset, log.newestOffset]).toEqual([0, 11]);
    expect(await valueAt(log, 0)).toBe('value-0');
    expect(await valueAt(log, missing)).toBe('corrupt');
    expect(await valueAt(log, bases[2]!)).toBe(`value-${bases[2]}`);
    expect(lines.some((l) => l.level === 'error' && l.msg.includes('missing between segments'))).toBe(true);
    await log.close();
    expect((await readdir(dir)).filter((n) => n.endsWith('.log'))).toHaveLength(bases.length - 1);
  });

  it('D12: an active segment whose records do not match its name is refused, with its data kept', async () => {
    const log = await open();
    await log.append(['a', 'b', 'c'].map((v) => ({ key: null, value: Buffer.from(v), headers: null, subject: 's', reply: '' })), 1n, 1).durable;
    await log.close();
    await rename(join(dir, name(0, '.log')), join(dir, name(5, '.log')));
    await unlink(join(dir, name(0, '.index')));
    const size = (await stat(join(dir, name(5, '.log')))).size;
    await expect(open()).rejects.toBeInstanceOf(SegmentCorruptedError);
    expect((await stat(join(dir, name(5, '.log')))).size).toBe(size);
  });

  it('D13: temporary files from an interrupted checkpoint are removed; the checkpoints stay', async () => {
    await writeTwelve();
    await writeFile(join(dir, 'replication-offset-checkpoint.tmp'), '11');
    await writeFile(join(dir, 'leader-epoch-checkpoint.tmp'), '0\n1\n');
    const log = await open();
    expect(log.highWatermark).toBe(9);
    expect(log.lastLeaderEpoch).toBe(2);
    expect((await readdir(dir)).some((n) => n.endsWith('.tmp'))).toBe(false);
    expect(lines.filter((l) => l.msg.includes('temporary file'))).toHaveLength(2);
    await log.close();
  });

  it.each([
    ['', -1],
    ['garbage', -1],
    ['12345', 11],
    ['-5', -1],
  ])('D14: a high-watermark checkpoint of %j is not trusted (HW %i)', async (content, hw) => {
    await writeTwelve();
    await writeFile(join(dir, 'replication-offset-checkpoint'), content);
    const log = await open();
    expect(log.highWatermark).toBe(hw);
    expect(lines.some((l) => l.level === 'warn' && l.msg.includes('high-watermark checkpoint'))).toBe(true);
    await log.close();
    expect(await readFile(join(dir, 'replication-offset-checkpoint'), 'utf8')).toBe(String(hw));
  });

  it.each([
    ['', []],
    ['0\n3\n1 0\n2 6\n7 50\n', [1, 2]], // beyond the log end
    ['0\n3\n1 0\n4 6\n3 7\n', [1, 4]], // not increasing
    ['0\n9\n1 0\n', [1]], // count mismatch
    ['7\n1\n1 0\n', []], // unknown version
  ])('D15: a leader-epoch checkpoint of %j is cut to its valid prefix', async (content, epochs) => {
    await writeTwelve();
    await writeFile(join(dir, 'leader-epoch-checkpoint'), content);
    const log = await open();
    expect(lines.some((l) => l.level === 'warn' && l.msg.includes('leader-epoch checkpoint'))).toBe(true);
    // The active segment's last record (epoch 2) is re-validated, so epoch 2 is always known.
    expect(log.lastLeaderEpoch).toBe(Math.max(2, ...epochs));
    await log.close();
    const lines2 = (await readFile(join(dir, 'leader-epoch-checkpoint'), 'utf8')).trim().split('\n');
    expect(lines2[0]).toBe('0');
  });

  it('D5: a damaged record in a sealed segment with a lost index is not served; the records after it are; the file is untouched', async () => {
    const bases = await writeTwelve();
    const sealed = bases[0]!;
    const path = join(dir, name(sealed, '.log'));
    const bytes = await readFile(path);
    const entryBytes = bytes.readUInt32BE(24) + 28;
    bytes[entryBytes + 40] ^= 0xff; // inside the second record's message
    await writeFile(path, bytes);
    await unlink(join(dir, name(sealed, '.index')));
    const log = await open();
    expect(await valueAt(log, sealed)).toBe(`value-${sealed}`);
    expect(await valueAt(log, sealed + 1)).toBe('corrupt');
    for (let o = sealed + 2; o < 12; o++) expect(await valueAt(log, o)).toBe(`value-${o}`);
    expect(log.damaged).toEqual([{ firstOffset: sealed + 1, lastOffset: sealed + 1 }]);
    expect(lines.filter((l) => l.level === 'error' && l.msg.includes('damaged record kept'))).toHaveLength(1);
    const first = await log.read(0, 11, 1 << 20);
    expect(first?.count).toBe(1); // the good prefix is served, the read stops before the bad record
    await log.close();
    expect((await stat(path)).size).toBe(bytes.length);
  });
});
