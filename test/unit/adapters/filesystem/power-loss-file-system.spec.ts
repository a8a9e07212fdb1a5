/**
 * The simulated disk of the power-loss tests (test/support/power-loss): what a power cut keeps must
 * be exactly what the durability rules of src/adapters/outbound/filesystem/file-system.ts promise,
 * and nothing a real disk could not leave behind.
 */
import { PowerLossFileSystem } from '../../../support/power-loss/power-loss-file-system';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Runs `scenario` on disks of seeds 1..n and collects what each power cut left of `path`. */
async function outcomes(n: number, scenario: (disk: PowerLossFileSystem) => Promise<void>, path: string): Promise<Set<string | null>> {
  const seen = new Set<string | null>();
  for (let seed = 1; seed <= n; seed++) {
    const disk = new PowerLossFileSystem({ seed });
    await scenario(disk);
    disk.crash();
    seen.add(disk.peek(path)?.toString('utf8') ?? null);
  }
  return seen;
}

describe('PowerLossFileSystem', () => {
  it('keeps synced bytes and a prefix (maybe torn) of the rest', async () => {
    const seen = await outcomes(
      200,
      async (disk) => {
        const fs = disk.mount();
        await fs.mkdir('/d');
        await fs.syncDir('/');
        const f = await fs.open('/d/f', 'createEmpty');
        await fs.syncDir('/d');
        await f.writev([bytes('synced|')], 0);
        await f.datasync();
        await f.writev([bytes('lost')], 7);
      },
      '/d/f',
    );
    for (const content of seen) {
      expect(content).not.toBeNull();
      expect(content!.startsWith('synced|')).toBe(true);
      expect(content!.length).toBeLessThanOrEqual(11);
    }
    expect(seen).toContain('synced|');
    expect(seen).toContain('synced|lost');
    expect([...seen].some((c) => c !== null && c.length > 7 && c !== 'synced|lost')).toBe(true); // torn
  });

  it('keeps a write through an O_DSYNC handle once it returned, without any fsync', async () => {
    const seen = await outcomes(
      100,
      async (disk) => {
        const fs = disk.mount();
        await fs.mkdir('/d');
        await fs.syncDir('/');
        await (await fs.open('/d/f', 'createEmpty')).close();
        await fs.syncDir('/d');
        const f = await fs.open('/d/f', 'writeDsync');
        await f.writev([bytes('durable')], 0);
      },
      '/d/f',
    );
    expect([...seen]).toEqual(['durable']);
  });

  it('loses a create not covered by a directory fsync, and keeps either side of an unsynced rename', async () => {
    const created = await outcomes(
      100,
      async (disk) => {
        const fs = disk.mount();
        await fs.mkdir('/d');
        await fs.syncDir('/');
        const f = await fs.open('/d/f', 'createEmpty');
        await f.writev([bytes('data')], 0);
        await f.sync();
      },
      '/d/f',
    );
    expect(created).toEqual(new Set([null, 'data']));

    const renamed = await outcomes(
      100,
      async (disk) => {
        const fs = disk.mount();
        await fs.mkdir('/d');
        await fs.syncDir('/');
        for (const [name, text] of [
          ['/d/f', 'old'],
          ['/d/f.tmp', 'new'],
        ] as const) {
          const f = await fs.open(name, 'createEmpty');
          await f.writev([bytes(text)], 0);
          await f.sync();
          await f.close();
          if (name === '/d/f') await fs.syncDir('/d');
        }
        await fs.rename('/d/f.tmp', '/d/f');
      },
      '/d/f',
    );
    expect(renamed).toEqual(new Set(['old', 'new']));
  });

  it('tears the operation under way at crashAtOperation and refuses the old process afterwards', async () => {
    const disk = new PowerLossFileSystem({ seed: 7 });
    const fs = disk.mount();
    await fs.mkdir('/d');
    disk.crashAtOperation(1);
    await expect(fs.open('/d/f', 'createEmpty')).rejects.toMatchObject({ code: 'EIO' });
    expect(disk.crashes).toBe(1);
    await expect(fs.readdir('/')).rejects.toMatchObject({ code: 'EIO' });
    await expect(disk.mount().readdir('/')).resolves.toBeDefined();
  });

  it('fails writes that do not fit with ENOSPC, after writing what fits', async () => {
    const disk = new PowerLossFileSystem({ seed: 3 });
    const fs = disk.mount();
    const f = await fs.open('/f', 'createEmpty');
    disk.capacityBytes = 10;
    await expect(f.writev([bytes('0123456789abc')], 0)).resolves.toEqual({ bytesWritten: 10 });
    await expect(f.writev([bytes('x')], 10)).rejects.toMatchObject({ code: 'ENOSPC' });
    await f.truncate(4);
    await expect(f.writev([bytes('xy')], 4)).resolves.toEqual({ bytesWritten: 2 });
    disk.failWhen((op) => op.kind === 'sync', 'EIO');
    await expect(f.datasync()).rejects.toMatchObject({ code: 'EIO' });
    disk.clearFaults();
    await expect(f.datasync()).resolves.toBeUndefined();
  });
});
