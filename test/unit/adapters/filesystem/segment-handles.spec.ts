import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { OpenFileCache } from '../../../../src/adapters/outbound/filesystem/commit-log/open-file-cache';
import { Segment } from '../../../../src/adapters/outbound/filesystem/commit-log/segment';
import { SegmentIndex } from '../../../../src/adapters/outbound/filesystem/commit-log/segment-index';
import { OpenMode, StorageFile } from '../../../../src/adapters/outbound/filesystem/file-system';
import { NodeFileSystem } from '../../../../src/adapters/outbound/filesystem/node-file-system';
import { openDescriptorsUnder } from '../../../support/open-descriptors';
import { waitFor } from '../../../support/wait-for';

/** Descriptors this process holds on `path`. */
const descriptorsOn = (path: string): number => openDescriptorsUnder(dirname(path)).filter((p) => p === path).length;

/** Node's file system, refusing the next `refusals` opens with EMFILE (a process out of descriptors). */
class ExhaustibleFileSystem extends NodeFileSystem {
  refusals = 0;

  override open(path: string, mode: OpenMode): Promise<StorageFile> {
    if (this.refusals-- > 0) return Promise.reject(Object.assign(new Error(`EMFILE: too many open files, open '${path}'`), { code: 'EMFILE' }));
    return super.open(path, mode);
  }
}

describe('Segment handles through the open-file cache', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lbts-segment-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const segmentAt = (files: OpenFileCache, base: number) => new Segment(files, dir, base, new SegmentIndex());

  /**
   * Overlapping group-commit flushes ask a fresh segment for its write handles at the same moment.
   * Each used to open its own and keep the last, leaving the others to the garbage collector with
   * their descriptors ("Closing file descriptor N on garbage collection").
   */
  it('opens the O_DSYNC handle once when asked concurrently, and close() releases it', async () => {
    const segment = segmentAt(new OpenFileCache(new NodeFileSystem(), 16), 0);
    await segment.create();
    const handles = await Promise.all([segment.syncWriteFile.acquire(), segment.syncWriteFile.acquire(), segment.syncWriteFile.acquire()]);
    expect(new Set(handles).size).toBe(1);
    expect(descriptorsOn(segment.logPath)).toBe(2); // the read/write handle and one O_DSYNC handle
    for (let i = 0; i < 3; i++) segment.syncWriteFile.release();
    await segment.close();
    expect(descriptorsOn(segment.logPath)).toBe(0); // none left to the garbage collector
  });

  it('opens the index handle once when asked concurrently, and again after closeIndex', async () => {
    const segment = segmentAt(new OpenFileCache(new NodeFileSystem(), 16), 0);
    await segment.create();
    await segment.closeIndex(); // a sealed segment: the index handle is gone until a write needs it
    expect(descriptorsOn(segment.indexPath)).toBe(0);
    await Promise.all([segment.indexFile.use(async () => undefined), segment.indexFile.use(async () => undefined)]);
    expect(descriptorsOn(segment.indexPath)).toBe(1);
    await segment.close();
    expect(descriptorsOn(segment.indexPath)).toBe(0);
  });

  /** Segments at `bases` whose files exist (created through another cache, then closed). */
  async function existingSegments(files: OpenFileCache, bases: readonly number[]): Promise<Segment[]> {
    const creator = new OpenFileCache(new NodeFileSystem(), 64);
    for (const base of bases) {
      const s = segmentAt(creator, base);
      await s.create();
      await s.close();
    }
    return bases.map((base) => {
      const s = segmentAt(files, base);
      s.hasFiles = true;
      return s;
    });
  }

  /** Closing goes through the thread pool: poll until the cache holds `n` descriptors. */
  async function untilOpenCount(files: OpenFileCache, n: number): Promise<void> {
    await waitFor(() => files.openCount === n, 1000, `${n} open descriptors in the cache`, 5);
  }

  it('keeps at most the budget open, closing the least recently used idle handle first', async () => {
    const files = new OpenFileCache(new NodeFileSystem(), 3);
    const segments = await existingSegments(files, [0, 10, 20, 30]);
    for (const s of segments) await s.logFile.use(async () => undefined);
    // Four .log handles were opened through a budget of three: the first one was closed.
    await untilOpenCount(files, 3);
    expect(segments.map((s) => s.logFile.isOpen)).toEqual([false, true, true, true]);
    await segments[1]!.logFile.use(async () => undefined); // now the most recently used
    await segments[0]!.logFile.use(async () => undefined); // opened again: the oldest idle one (20) goes
    expect(segments.map((s) => s.logFile.isOpen)).toEqual([true, true, false, true]);
    await untilOpenCount(files, 3);
    expect(openDescriptorsUnder(dir)).toHaveLength(3);
    for (const s of segments) await s.close();
    expect(openDescriptorsUnder(dir)).toHaveLength(0);
    expect(files.openCount).toBe(0);
  });

  it('never closes a handle in use: beyond the budget it opens more, and closes the surplus once released', async () => {
    const files = new OpenFileCache(new NodeFileSystem(), 1);
    const [a, b] = await existingSegments(files, [0, 10]);
    const fileA = await a!.logFile.acquire();
    const fileB = await b!.logFile.acquire();
    expect(files.openCount).toBe(2); // both in use: the budget gives way
    expect((await fileA.stat()).size).toBe(0); // and both still work
    expect((await fileB.stat()).size).toBe(0);
    a!.logFile.release();
    expect(a!.logFile.isOpen).toBe(false); // the idle one goes as soon as it is released
    await untilOpenCount(files, 1);
    b!.logFile.release();
    expect(b!.logFile.isOpen).toBe(true); // within the budget: kept for the next operation
    await a!.close();
    await b!.close();
    expect(files.openCount).toBe(0);
  });

  it('hands an open handle over without a promise (tryAcquire), counted in use like acquire; null when it is closed', async () => {
    const files = new OpenFileCache(new NodeFileSystem(), 1);
    const [a, b] = await existingSegments(files, [0, 10]);
    expect(a!.logFile.tryAcquire()).toBeNull(); // not open: the caller acquires (and opens) instead
    await a!.logFile.use(async () => undefined);
    const held = a!.logFile.tryAcquire();
    expect(held).not.toBeNull();
    await b!.logFile.use(async () => undefined); // over the budget: a's handle is in use, so b's goes once released
    expect([a!.logFile.isOpen, b!.logFile.isOpen]).toEqual([true, false]);
    a!.logFile.release();
    expect(a!.logFile.isOpen).toBe(true); // within the budget again: kept for the next operation
    await a!.close();
    await b!.close();
    expect(a!.logFile.tryAcquire()).toBeNull();
    await untilOpenCount(files, 0);
  });

  it('waits for the operations in flight before closing for good, and refuses new ones after', async () => {
    const segment = segmentAt(new OpenFileCache(new NodeFileSystem(), 4), 0);
    await segment.create();
    const file = await segment.logFile.acquire();
    let closed = false;
    const closing = segment.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    expect((await file.stat()).size).toBe(0); // still usable
    segment.logFile.release();
    await closing;
    await expect(segment.logFile.acquire()).rejects.toThrow(/is closed/);
    expect(descriptorsOn(segment.logPath)).toBe(0);
  });

  it('closes its idle handles and tries again once when the process is out of descriptors (EMFILE)', async () => {
    const fs = new ExhaustibleFileSystem();
    const files = new OpenFileCache(fs, 8);
    const [a, b] = [segmentAt(files, 0), segmentAt(files, 10)];
    await a.create();
    await b.create();
    await b.closeIndex();
    await b.logFile.closeNow();
    fs.refusals = 1;
    await b.logFile.use(async (file) => expect((await file.stat()).size).toBe(0));
    expect(a.logFile.isOpen).toBe(false); // freed to make room
    expect(a.indexFile.isOpen).toBe(false);
    fs.refusals = 2; // the only idle handle is freed, and the open fails again: the error reaches the caller
    await expect(a.logFile.use(async () => undefined)).rejects.toMatchObject({ code: 'EMFILE' });
    expect(b.logFile.isOpen).toBe(false);
    await untilOpenCount(files, 0);
    await a.close();
    await b.close();
    expect(openDescriptorsUnder(dir)).toHaveLength(0);
    expect(files.openCount).toBe(0);
  });
});
