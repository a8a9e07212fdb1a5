/**
 * Damaged records versus torn tails (docs/reliability.md "Scenarios" 21-22, "Bad inputs" D1-D7;
 * docs/storage.md §4.1). Recovery cuts only a torn tail (nothing intact after the defect); a
 * damaged record followed by intact ones is kept on disk, listed in `damaged`, refused on read with
 * `RecordDamagedError`, and the records after it are served. A read that finds damage later does the
 * same. `repairDamaged` rewrites a damaged record in place from another replica's copy.
 */
import { appendFile, cp, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../../../src/application/ports/logger.port';
import { RecordDamagedError } from '../../../../src/application/ports/partition-log.errors';
import { PartitionLog } from '../../../../src/application/ports/partition-log.port';
import { decodeMessageSet } from '../../../../src/adapters/codec/message-set';
import { FilesystemPartitionLogStore } from '../../../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';
import { contractOptions } from '../../../contract/partition-log-contract-support';

const ref = { stream: 'damage', partition: 0 };
const options = contractOptions();
const RECORDS = 300;
const logName = (base: number) => `${String(base).padStart(20, '0')}.log`;
const value = (i: number) => `value-${String(i).padStart(4, '0')}`;

type Line = { level: string; obj: Record<string, unknown>; msg: string };

describe('damaged records are kept and reported; only torn tails are cut', () => {
  let dataDir: string;
  let copies: string[];
  let lines: Line[];
  const logger: Logger = {
    debug: () => undefined,
    info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg }),
    child: () => logger,
  };
  const partitionDir = (root: string) => join(root, 'streams', ref.stream, String(ref.partition));
  const openAt = (root: string) => new FilesystemPartitionLogStore({ dataDir: root, logger }).open(ref, options);

  /**
   * 300 acknowledged (durable) records in one active segment, then the state `kill -9` leaves: the
   * directory is copied while the log is still open, so the index lags (it is written in runs of
   * 4096 entries) and recovery must re-scan the log.
   */
  async function killedWithRecords(): Promise<{ root: string; log: string; positions: number[] }> {
    const log = await openAt(dataDir);
    for (let i = 0; i < RECORDS; i++) {
      await log.append([{ key: null, value: Buffer.from(value(i)), headers: null, subject: 's', reply: '' }], BigInt(1000 + i), 1).durable;
    }
    log.setHighWatermark(RECORDS - 1);
    const root = await mkdtemp(join(tmpdir(), 'liftbridge-killed-'));
    copies.push(root);
    await cp(dataDir, root, { recursive: true });
    await log.close();
    const file = join(partitionDir(root), logName(0));
    const bytes = await readFile(file);
    const positions: number[] = [];
    for (let pos = 0; pos < bytes.length; pos += 28 + bytes.readUInt32BE(pos + 24)) positions.push(pos);
    expect(positions).toHaveLength(RECORDS);
    return { root, log: file, positions };
  }

  async function flip(file: string, at: number, mask = 0xff): Promise<void> {
    const bytes = await readFile(file);
    bytes[at] ^= mask;
    await writeFile(file, bytes);
  }

  async function valueAt(log: PartitionLog, offset: number): Promise<string | 'damaged' | null> {
    try {
      const batch = await log.read(offset, offset, 1);
      return batch === null ? null : decodeMessageSet(batch.bytes)[0]!.value!.toString();
    } catch (e) {
      if (e instanceof RecordDamagedError && e.offset === offset) return 'damaged';
      throw e;
    }
  }

  async function expectServed(log: PartitionLog, from: number, to: number): Promise<void> {
    for (let o = from; o <= to; o++) expect(await valueAt(log, o)).toBe(value(o));
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'liftbridge-damage-'));
    copies = [];
    lines = [];
  });
  afterEach(async () => {
    for (const d of [dataDir, ...copies]) await rm(d, { recursive: true, force: true });
  });

  it('a flipped byte 100 records before the end of the active segment: the 99 records after it survive a kill -9 restart and are served', async () => {
    const killed = await killedWithRecords();
    const damagedOffset = RECORDS - 100;
    await flip(killed.log, killed.positions[damagedOffset]! + 40); // inside the message: CRC mismatch
    const size = (await stat(killed.log)).size;
    lines = [];
    const log = await openAt(killed.root);
    expect(log.newestOffset).toBe(RECORDS - 1);
    expect(log.damaged).toEqual([{ firstOffset: damagedOffset, lastOffset: damagedOffset }]);
    expect(await valueAt(log, damagedOffset)).toBe('damaged');
    await expectServed(log, damagedOffset + 1, RECORDS - 1);
    await expectServed(log, 0, damagedOffset - 1);
    // A read across it returns the records before it, and stops there.
    const batch = await log.read(0, RECORDS - 1, 1 << 20);
    expect([batch?.firstOffset, batch?.lastOffset]).toEqual([0, damagedOffset - 1]);
    // Reported once, with file, position and offset; nothing cut.
    const reports = lines.filter((l) => l.level === 'error' && l.msg.includes('damaged record kept'));
    expect(reports).toHaveLength(1);
    expect(reports[0]!.obj).toEqual(
      expect.objectContaining({ file: killed.log, position: killed.positions[damagedOffset], firstOffset: damagedOffset, lastOffset: damagedOffset, defect: 'bad-crc' }),
    );
    expect(lines.some((l) => l.msg.includes('cut the torn tail'))).toBe(false);
    // Appends continue after the intact records.
    const next = log.append([{ key: null, value: Buffer.from(value(RECORDS)), headers: null, subject: 's', reply: '' }], 5000n, 1);
    expect(next.firstOffset).toBe(RECORDS);
    await next.durable;
    await log.close();
    expect((await stat(killed.log)).size).toBeGreaterThan(size);
  });

  it.each([
    ['the offset field', 3],
    ['the size field, flipped to about 2^31', 24],
    ['the CRC', 29],
  ])('a damaged record in the middle of the active segment (%s) is kept; the records after it are served', async (_what, byteInRecord) => {
    const killed = await killedWithRecords();
    const damagedOffset = 150;
    await flip(killed.log, killed.positions[damagedOffset]! + byteInRecord, byteInRecord === 24 ? 0x7f : 0x10);
    const log = await openAt(killed.root);
    expect(log.newestOffset).toBe(RECORDS - 1);
    expect(log.damaged).toEqual([{ firstOffset: damagedOffset, lastOffset: damagedOffset }]);
    expect(await valueAt(log, damagedOffset)).toBe('damaged');
    await expectServed(log, damagedOffset + 1, RECORDS - 1);
    await log.close();
  });

  it('several damaged records in a row (zeroed bytes across three records) are kept as one damaged range', async () => {
    const killed = await killedWithRecords();
    const bytes = await readFile(killed.log);
    bytes.fill(0, killed.positions[100]! + 10, killed.positions[103]! - 5);
    await writeFile(killed.log, bytes);
    const log = await openAt(killed.root);
    expect(log.damaged).toEqual([{ firstOffset: 100, lastOffset: 102 }]);
    for (const o of [100, 101, 102]) expect(await valueAt(log, o)).toBe('damaged');
    await expectServed(log, 103, RECORDS - 1);
    await expectServed(log, 95, 99);
    // Placeholders take the previous record's timestamp: a time lookup lands on the next servable record.
    expect(log.earliestOffsetAtOrAfter(1101n)).toBe(103);
    await log.close();
  });

  const tornTails: [string, (file: string, positions: number[]) => Promise<number>][] = [
    ['cut in the middle of the last record', async (file, p) => (await truncate(file, p[RECORDS - 1]! + 33), RECORDS - 2)],
    ['cut inside the last record header', async (file, p) => (await truncate(file, p[RECORDS - 1]! + 10), RECORDS - 2)],
    ['followed by 4096 zero bytes', async (file) => (await appendFile(file, Buffer.alloc(4096)), RECORDS - 1)],
    ['followed by random garbage', async (file) => (await appendFile(file, Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) % 256))), RECORDS - 1)],
    ['a damaged last record', async (file, p) => (await flip(file, p[RECORDS - 1]! + 40), RECORDS - 2)],
  ];
  it.each(tornTails)('a torn tail (%s) is cut exactly as before, and nothing is listed as damaged', async (_what, tear) => {
    const killed = await killedWithRecords();
    const newest = await tear(killed.log, killed.positions);
    const log = await openAt(killed.root);
    expect(log.newestOffset).toBe(newest);
    expect(log.damaged).toEqual([]);
    await expectServed(log, newest - 5, newest);
    expect(await log.read(newest + 1, Number.MAX_SAFE_INTEGER, 1 << 20)).toBeNull();
    const end = killed.positions[newest]! + (killed.positions[1]! - killed.positions[0]!);
    const cut = lines.find((l) => l.msg.includes('cut the torn tail'));
    expect(cut?.obj).toEqual(expect.objectContaining({ lastValidOffset: newest, position: end }));
    await log.close();
    expect((await stat(killed.log)).size).toBe(end);
  });

  it('a record damaged at rest and found by a read is listed, refused, and the records after it are still served', async () => {
    const log = await openAt(dataDir);
    for (let i = 0; i < 20; i++) await log.append([{ key: null, value: Buffer.from(value(i)), headers: null, subject: 's', reply: '' }], BigInt(i), 1).durable;
    log.setHighWatermark(19);
    await log.close();
    const file = join(partitionDir(dataDir), logName(0));
    const recordBytes = (await stat(file)).size / 20;
    await flip(file, recordBytes * 7 + 45); // the index was written on close: recovery trusts it
    const reopened = await openAt(dataDir);
    expect(reopened.damaged).toEqual([]);
    const batch = await reopened.read(0, 19, 1 << 20);
    expect([batch?.firstOffset, batch?.lastOffset]).toEqual([0, 6]);
    expect(reopened.damaged).toEqual([{ firstOffset: 7, lastOffset: 7 }]);
    await expect(reopened.read(7, 19, 1 << 20)).rejects.toEqual(expect.objectContaining({ offset: 7 }));
    const after = await reopened.read(8, 19, 1 << 20);
    expect([after?.firstOffset, after?.lastOffset]).toEqual([8, 19]);
    expect(lines.filter((l) => l.msg.includes('damaged record found on read'))).toHaveLength(1);
    await reopened.close();
    // The damaged-records checkpoint keeps it known across a reopen (a restart, or a role change).
    const again = await openAt(dataDir);
    expect(again.damaged).toEqual([{ firstOffset: 7, lastOffset: 7 }]);
    expect(await valueAt(again, 7)).toBe('damaged');
    await again.close();
  });

  it('repairDamaged rewrites a damaged record in place from another replica copy: the file becomes byte-identical', async () => {
    const killed = await killedWithRecords();
    const pristine = await readFile(killed.log);
    const pristineIndex = await readFile(join(partitionDir(dataDir), logName(0)).replace(/\.log$/, '.index'));
    await flip(killed.log, killed.positions[200]! + 24, 0x40); // the size field: the span is found by the scan
    const source = await openAt(dataDir); // the "leader": an undamaged copy of the same records
    const log = await openAt(killed.root);
    expect(log.damaged).toEqual([{ firstOffset: 200, lastOffset: 200 }]);
    const copy = (await source.read(198, 203, 1 << 20))!;
    expect(await log.repairDamaged(copy)).toBe(1);
    expect(log.damaged).toEqual([]);
    await expectServed(log, 195, 205);
    await log.close();
    await source.close();
    expect((await readFile(killed.log)).equals(pristine)).toBe(true);
    expect((await readFile(killed.log.replace(/\.log$/, '.index'))).equals(pristineIndex)).toBe(true);
    lines = [];
    const again = await openAt(killed.root);
    expect(again.damaged).toEqual([]);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    await again.close();
    expect(await readFile(join(partitionDir(killed.root), 'damaged-records'), 'utf8')).toBe('0\n0\n');
  });

  it('a stale damaged-records checkpoint is checked on open: ranges that read back intact are dropped', async () => {
    const log = await openAt(dataDir);
    for (let i = 0; i < 5; i++) await log.append([{ key: null, value: Buffer.from(value(i)), headers: null, subject: 's', reply: '' }], BigInt(i), 1).durable;
    await log.close();
    await writeFile(join(partitionDir(dataDir), 'damaged-records'), '0\n2\n1 2\n40 41\n');
    const reopened = await openAt(dataDir);
    expect(reopened.damaged).toEqual([]);
    await expectServed(reopened, 0, 4);
    await reopened.close();
  });

  it('repairDamaged leaves ranges it does not cover whole, and truncation forgets damage it cuts', async () => {
    const killed = await killedWithRecords();
    const bytes = await readFile(killed.log);
    bytes.fill(0, killed.positions[100]! + 10, killed.positions[103]! - 5);
    bytes[killed.positions[260]! + 50] ^= 1;
    await writeFile(killed.log, bytes);
    const source = await openAt(dataDir);
    const log = await openAt(killed.root);
    expect(await log.repairDamaged((await source.read(101, 110, 1 << 20))!)).toBe(0);
    expect(log.damaged).toEqual([{ firstOffset: 100, lastOffset: 102 }, { firstOffset: 260, lastOffset: 260 }]);
    expect(await log.repairDamaged((await source.read(99, 110, 1 << 20))!)).toBe(3);
    await expectServed(log, 99, 104);
    expect(log.damaged).toEqual([{ firstOffset: 260, lastOffset: 260 }]);
    await log.truncateFrom(250);
    expect(log.damaged).toEqual([]);
    await source.close();
    await log.close();
  });
});
