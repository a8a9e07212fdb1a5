import { SharedDirectorySyncs } from '../../../../src/adapters/outbound/filesystem/commit-log/shared-directory-syncs';
import { FileSystem } from '../../../../src/adapters/outbound/filesystem/file-system';

/** Directory syncs that finish when the test says so. */
function heldSyncs(): { fs: FileSystem; started: string[]; finish(error?: Error): void } {
  const started: string[] = [];
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const fs = {
    syncDir: (path: string) =>
      new Promise<void>((resolve, reject) => {
        started.push(path);
        pending.push({ resolve, reject });
      }),
  } as unknown as FileSystem;
  return {
    fs,
    started,
    finish: (error) => {
      const next = pending.shift()!;
      if (error) next.reject(error);
      else next.resolve();
    },
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('SharedDirectorySyncs', () => {
  it('makes callers that come while a sync of the directory runs share the next one, started after it', async () => {
    const disk = heldSyncs();
    const shared = new SharedDirectorySyncs(disk.fs);
    const done: string[] = [];
    const first = shared.syncDir('/s').then(() => done.push('first'));
    const later = Array.from({ length: 5 }, (_, i) => shared.syncDir('/s').then(() => done.push(`later${i}`)));
    const other = shared.syncDir('/t').then(() => done.push('other'));
    expect(disk.started).toEqual(['/s', '/t']); // the later callers wait: the running sync may predate their change
    disk.finish();
    await first;
    await turn();
    expect(done).toEqual(['first']);
    expect(disk.started).toEqual(['/s', '/t', '/s']); // one sync for the five of them
    disk.finish(); // '/t'
    disk.finish(); // the second '/s'
    await Promise.all([...later, other]);
    expect(done.sort()).toEqual(['first', 'later0', 'later1', 'later2', 'later3', 'later4', 'other']);
    const again = shared.syncDir('/s'); // idle again: a new caller starts its own at once
    expect(disk.started).toHaveLength(4);
    disk.finish();
    await again;
  });

  it('reports a failed sync to its callers only; the next one runs', async () => {
    const disk = heldSyncs();
    const shared = new SharedDirectorySyncs(disk.fs);
    const failed = shared.syncDir('/s');
    const next = shared.syncDir('/s');
    disk.finish(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await expect(failed).rejects.toThrow('EIO');
    await turn();
    disk.finish();
    await expect(next).resolves.toBeUndefined();
  });
});
