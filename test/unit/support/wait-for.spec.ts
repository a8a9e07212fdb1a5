/** The tests' one poller (test/support/wait-for.ts), on virtual time. */
import { VirtualTime } from '../../support/virtual-time';
import { settleVirtual, waitFor, waitForVirtual } from '../../support/wait-for';

describe('waitForVirtual', () => {
  it('returns what the probe found, advancing only to the timers that could change it', async () => {
    const time = new VirtualTime();
    let value: string | null = null;
    time.setTimeout(() => void Promise.resolve().then(() => (value = 'ready')), 1_234);
    await expect(waitForVirtual(time, () => value, 5_000, 'the value')).resolves.toBe('ready');
    expect(time.elapsedMs).toBe(1_234);
  });

  it('fails after the virtual deadline, naming what it waited for', async () => {
    const time = new VirtualTime();
    const ticker = time.setInterval(() => undefined, 100);
    await expect(waitForVirtual(time, () => false, 1_000, 'nothing')).rejects.toThrow('timed out after 1000 virtual ms waiting for nothing');
    expect(time.elapsedMs).toBe(1_000);
    ticker.cancel();
  });

  it('jumps straight to the deadline when no timer is pending', async () => {
    const time = new VirtualTime();
    await waitForVirtual(time, () => time.elapsedMs >= 60_000, 60_000, 'a minute');
    expect(time.elapsedMs).toBe(60_000);
  });
});

describe('settleVirtual', () => {
  it('settles a promise that needs no timer with no virtual time passing', async () => {
    const time = new VirtualTime();
    time.setInterval(() => undefined, 5);
    await expect(settleVirtual(time, Promise.resolve().then(() => 'done'), 1_000, 'the job')).resolves.toBe('done');
    expect(time.elapsedMs).toBe(0);
  });

  it('advances to the timer that settles it and passes its error on', async () => {
    const time = new VirtualTime();
    const refused = new Promise((_, reject) => time.setTimeout(() => reject(new Error('refused')), 300));
    await expect(settleVirtual(time, refused, 1_000, 'the refusal')).rejects.toThrow('refused');
    expect(time.elapsedMs).toBe(300);
  });

  it('fails when the promise does not settle within the virtual deadline', async () => {
    const time = new VirtualTime();
    await expect(settleVirtual(time, new Promise(() => undefined), 500, 'forever')).rejects.toThrow('timed out after 500 virtual ms waiting for forever');
  });
});

describe('waitFor', () => {
  it('returns at once what a probe that already holds found', async () => {
    await expect(waitFor(() => 42, 0, 'the answer')).resolves.toBe(42);
  });
});
