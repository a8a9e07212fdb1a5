import { openFilesBudget, processDescriptorLimit } from '../../../../src/infrastructure/lifecycle/open-files-budget';

const limits = (soft: string, hard: string) =>
  ['Limit                     Soft Limit           Hard Limit           Units', `Max open files            ${soft}                ${hard}                files`].join('\n');

describe('the partition logs\' descriptor budget', () => {
  it('reads the soft RLIMIT_NOFILE from /proc/self/limits, null when it cannot', () => {
    expect(processDescriptorLimit(() => limits('20000', '20000'))).toBe(20000);
    expect(processDescriptorLimit(() => limits('1024', '4096'))).toBe(1024);
    expect(processDescriptorLimit(() => 'nothing useful')).toBeNull();
    expect(processDescriptorLimit(() => {
      throw new Error('ENOENT');
    })).toBeNull();
    expect(processDescriptorLimit()).toBeGreaterThan(0); // this machine runs Linux
  });

  it('is half the limit, at most 4096, by default (4096 when the limit is unknown)', () => {
    expect(openFilesBudget(0, 20000)).toEqual({ ok: true, value: 4096 });
    expect(openFilesBudget(0, 1024)).toEqual({ ok: true, value: 512 });
    expect(openFilesBudget(0, 1)).toEqual({ ok: true, value: 1 });
    expect(openFilesBudget(0, null)).toEqual({ ok: true, value: 4096 });
  });

  it('takes a set value that leaves room for the rest of the server, and refuses one that does not, naming the key', () => {
    expect(openFilesBudget(18976, 20000)).toEqual({ ok: true, value: 18976 });
    expect(openFilesBudget(256, 1024)).toEqual({ ok: true, value: 256 });
    const refused = openFilesBudget(19000, 20000);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.error).toBe(
      '"streams.open.files.max" is 19000, but this process may open only 20000 files (ulimit -n), and 1024 of them are kept for connections and other files: set at most 18976, or raise the limit',
    );
    expect(openFilesBudget(1_000_000, null)).toEqual({ ok: true, value: 1_000_000 }); // unknown limit: nothing to check against
  });
});
