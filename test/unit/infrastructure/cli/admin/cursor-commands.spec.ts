import { PassThrough } from 'node:stream';
import { parseAdminInvocation, runAdmin, type AdminCommand } from '../../../../../src/infrastructure/cli/admin/admin-program';
import type { AdminIo } from '../../../../../src/infrastructure/cli/admin/admin-common';
import { LiftbridgeClient, NoSuchStreamError } from '../../../../../src/client';

const VERSION = '9.9.9-test';
const argv = (...args: string[]): string[] => ['/usr/bin/node', '/opt/liftbridge/bin/liftbridge.js', ...args];

async function parse(...args: string[]): Promise<AdminCommand> {
  const r = await parseAdminInvocation(argv(...args), VERSION);
  if (r.kind !== 'run') throw new Error(`expected a command, got exit ${r.code}:\n${r.output}`);
  return r.command;
}

function bufferIo(): AdminIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => (out += t),
    err: (t) => (err += t),
    stdin: new PassThrough(),
    stderrIsTty: false,
    onInterrupt: () => () => undefined,
    stdout: () => out,
    stderr: () => err,
  };
}

const fakeClient = (methods: Partial<Record<keyof LiftbridgeClient, unknown>>): LiftbridgeClient => ({ close: jest.fn(), ...methods }) as unknown as LiftbridgeClient;

describe('liftbridge cursor get|set', () => {
  it('parses get and set, partition 0 by default', async () => {
    expect(await parse('cursor', 'get', 'c1', 'orders')).toMatchObject({ kind: 'cursor-get', id: 'c1', stream: 'orders', partition: 0, json: false });
    expect(await parse('cursor', 'set', 'c1', 'orders', '42', '-p', '3', '--json')).toMatchObject({ kind: 'cursor-set', id: 'c1', stream: 'orders', partition: 3, offset: 42n, json: true });
  });

  it('refuses an offset that is not one, as a usage error (exit 2)', async () => {
    const io = bufferIo();
    expect(await runAdmin(argv('cursor', 'set', 'c1', 'orders', 'x'), io, VERSION, () => Promise.reject(new Error('not called')))).toBe(2);
    expect(io.stderr()).toContain('must be an offset');
  });

  it('prints the fetched offset, as text or JSON, and closes the client', async () => {
    const client = fakeClient({ fetchCursor: jest.fn().mockResolvedValue(7n) });
    const io = bufferIo();
    expect(await runAdmin(argv('cursor', 'get', 'c1', 'orders', '-p', '1'), io, VERSION, () => Promise.resolve(client))).toBe(0);
    expect(await runAdmin(argv('cursor', 'get', 'c1', 'orders', '--json'), io, VERSION, () => Promise.resolve(client))).toBe(0);
    expect(io.stdout()).toBe('7\n{"id":"c1","stream":"orders","partition":0,"offset":"7"}\n');
    expect(client.fetchCursor).toHaveBeenCalledWith({ id: 'c1', stream: 'orders', partition: 1 });
    expect(client.close).toHaveBeenCalledTimes(2);
  });

  it('stores an offset and says so', async () => {
    const client = fakeClient({ setCursor: jest.fn().mockResolvedValue(undefined) });
    const io = bufferIo();
    expect(await runAdmin(argv('cursor', 'set', 'c1', 'orders', '42', '--json'), io, VERSION, () => Promise.resolve(client))).toBe(0);
    expect(client.setCursor).toHaveBeenCalledWith({ id: 'c1', stream: 'orders', partition: 0, offset: 42n });
    expect(io.stdout()).toBe('{"ok":true,"id":"c1","stream":"orders","partition":0,"offset":"42"}\n');
  });

  it('reports a server refusal with exit 1', async () => {
    const client = fakeClient({ fetchCursor: jest.fn().mockRejectedValue(new NoSuchStreamError('cursors are disabled on the servers (no __cursors stream)', 5)) });
    const io = bufferIo();
    expect(await runAdmin(argv('cursor', 'get', 'c1', 'orders'), io, VERSION, () => Promise.resolve(client))).toBe(1);
    expect(io.stderr()).toBe('liftbridge cursor get: cursors are disabled on the servers (no __cursors stream)\n');
  });
});
