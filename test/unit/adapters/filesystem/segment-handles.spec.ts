import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Segment } from '../../../../src/adapters/outbound/filesystem/commit-log/segment';
import { SegmentIndex } from '../../../../src/adapters/outbound/filesystem/commit-log/segment-index';
import { NodeFileSystem } from '../../../../src/adapters/outbound/filesystem/node-file-system';
import { openDescriptorsUnder } from '../../../support/open-descriptors';

/**
 * Overlapping group-commit flushes ask a fresh segment for its write handles at the same moment.
 * Each used to open its own and keep the last, leaving the others to the garbage collector with
 * their descriptors ("Closing file descriptor N on garbage collection").
 */
/** Descriptors this process holds on `path`. */
const descriptorsOn = (path: string): number => openDescriptorsUnder(dirname(path)).filter((p) => p === path).length;

describe('Segment write handles', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lbts-segment-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens the O_DSYNC handle once when asked concurrently, and close() releases it', async () => {
    const segment = new Segment(new NodeFileSystem(), dir, 0, new SegmentIndex());
    await segment.create();
    const handles = await Promise.all([segment.openSyncWrites(), segment.openSyncWrites(), segment.openSyncWrites()]);
    expect(new Set(handles).size).toBe(1);
    expect(handles[0]).toBe(segment.syncWriteFile);
    expect(descriptorsOn(segment.logPath)).toBe(2); // the read/write handle and one O_DSYNC handle
    await segment.close();
    expect(descriptorsOn(segment.logPath)).toBe(0); // none left to the garbage collector
  });

  it('opens the index handle once when asked concurrently', async () => {
    const segment = new Segment(new NodeFileSystem(), dir, 0, new SegmentIndex());
    await segment.create();
    await segment.closeIndex(); // a sealed segment: the index handle is gone until a write needs it
    expect(descriptorsOn(segment.indexPath)).toBe(0);
    await Promise.all([segment.openIndexForWrites(), segment.openIndexForWrites()]);
    await segment.openIndexForWrites();
    expect(descriptorsOn(segment.indexPath)).toBe(1);
    await segment.close();
    expect(descriptorsOn(segment.indexPath)).toBe(0);
  });
});
