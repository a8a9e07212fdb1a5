import { PassThrough } from 'node:stream';
import {
  isAdminInvocation,
  parseAdminInvocation,
  runAdmin,
  runAdminCommand,
  type AdminCommand,
} from '../../../../../src/infrastructure/cli/admin/admin-program';
import type { AdminIo } from '../../../../../src/infrastructure/cli/admin/admin-common';
import { AckPolicy, BrokerUnavailableError, LiftbridgeClient, NoSuchStreamError, StartPosition, StopPosition, TlsHandshakeError } from '../../../../../src/client';
import { toSubscribeOptions } from '../../../../../src/infrastructure/cli/admin/subscribe-command';

const VERSION = '9.9.9-test';
const argv = (...args: string[]): string[] => ['/usr/bin/node', '/opt/liftbridge/bin/liftbridge.js', ...args];

async function parse(...args: string[]): Promise<AdminCommand> {
  const r = await parseAdminInvocation(argv(...args), VERSION);
  if (r.kind !== 'run') throw new Error(`expected a command, got exit ${r.code}:\n${r.output}`);
  return r.command;
}

async function exit(...args: string[]): Promise<{ code: number; output: string }> {
  const r = await parseAdminInvocation(argv(...args), VERSION);
  if (r.kind !== 'exit') throw new Error(`expected exit, got ${JSON.stringify(r.command, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  return { code: r.code, output: r.output };
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

describe('admin command line', () => {
  let exitSpy: jest.SpyInstance;
  beforeEach(() => {
    exitSpy = jest.spyOn(process, 'exit').mockImplementation((code?: string | number | null) => {
      throw new Error(`process.exit(${String(code)}) called`);
    });
  });
  afterEach(() => exitSpy.mockRestore());

  describe('isAdminInvocation', () => {
    it.each([
      [['stream', 'list'], true],
      [['publish', 's', 'v'], true],
      [['subscribe', 's'], true],
      [['bench'], true],
      [['activity', '--json'], true],
      [[], false],
      [['--raft-bootstrap-seed'], false],
      [['--port', '9292', '--id', 'a'], false],
      [['--data-dir', 'stream'], false], // a flag's value is not a command
      [['--data-dir=x', 'stream', 'list'], true],
      [['-l', 'debug', 'bench'], true],
      [['--help'], false],
      [['--', 'stream'], false],
      [['serve'], false],
    ])('%j → %s', (args, expected) => {
      expect(isAdminInvocation(argv(...args))).toBe(expected);
    });
  });

  describe('stream', () => {
    it('create takes every option', async () => {
      const command = await parse(
        'stream', 'create', 'orders', '--subject', 'orders.*', '--partitions', '3', '--replication-factor', '-1', '--group', 'g',
        '--retention-max-bytes', '1GiB', '--retention-max-messages', '1000', '--retention-max-age', '1h', '--segment-max-bytes', '64MB',
        '--segment-max-age', '90s', '--min-isr', '2', '--concurrency-control', '--servers', 'a:1,b:2', '--json',
      );
      expect(command).toEqual({
        kind: 'stream-create',
        name: 'orders',
        subject: 'orders.*',
        servers: ['a:1', 'b:2'],
        json: true,
        options: {
          partitions: 3,
          replicationFactor: -1,
          group: 'g',
          retentionMaxBytes: 1024n ** 3n,
          retentionMaxMessages: 1000,
          retentionMaxAgeMs: 3_600_000,
          segmentMaxBytes: 64_000_000n,
          segmentMaxAgeMs: 90_000,
          minIsr: 2,
          optimisticConcurrencyControl: true,
        },
      });
    });

    it('create leaves unset options out (server defaults) and uses localhost:9292', async () => {
      expect(await parse('stream', 'create', 'o', '--subject', 's')).toEqual({
        kind: 'stream-create',
        name: 'o',
        subject: 's',
        servers: ['localhost:9292'],
        json: false,
        options: {},
      });
    });

    it.each([
      [['stream', 'create', 'o'], "required option '--subject <subject>'"],
      [['stream', 'create', 'o', '--subject', 's', '--partitions', '0'], 'greater than 0'],
      [['stream', 'create', 'o', '--subject', 's', '--partitions', 'x'], 'positive integer'],
      [['stream', 'create', 'o', '--subject', 's', '--retention-max-age', '3600'], 'needs a unit'],
      [['stream', 'create', 'o', '--subject', 's', '--retention-max-age', 'soon'], 'duration'],
      [['stream', 'create', 'o', '--subject', 's', '--retention-max-bytes', '1 parsec'], 'byte count'],
      [['stream', 'create', '--subject', 's'], "missing required argument 'name'"],
      [['stream', 'list', '--bogus'], "unknown option '--bogus'"],
      [['stream', 'list', '--servers', 'nohost'], 'not host:port'],
      [['stream', 'list', 'extra'], 'too many arguments'],
      [['stream', 'pause', 'o', '--partitions', '1,x'], 'non-negative integer'],
      [['stream', 'explode'], 'unknown command'],
    ])('%j is a usage error (exit 2): %s', async (args, message) => {
      const { code, output } = await exit(...args);
      expect(code).toBe(2);
      expect(output).toContain(message);
    });

    it('a group without its subcommand shows its help as a usage error', async () => {
      const { code, output } = await exit('stream');
      expect(code).toBe(2);
      expect(output).toContain('Usage: liftbridge stream');
    });

    it.each([['list'], ['describe', 'o'], ['delete', 'o']])('%j', async (...args) => {
      const command = await parse('stream', ...args);
      expect(command.kind).toBe(`stream-${args[0]}`);
      expect(command.servers).toEqual(['localhost:9292']);
    });

    it('pause, resume and readonly take partitions', async () => {
      expect(await parse('stream', 'pause', 'o', '--partitions', '0,1', '--partitions', '3', '--resume-all')).toMatchObject({
        kind: 'stream-pause',
        partitions: [0, 1, 3],
        resumeAll: true,
      });
      expect(await parse('stream', 'pause', 'o')).toMatchObject({ partitions: [], resumeAll: false });
      expect(await parse('stream', 'resume', 'o', '--partitions', '2')).toMatchObject({ kind: 'stream-resume', partitions: [2] });
      expect(await parse('stream', 'readonly', 'o')).toMatchObject({ kind: 'stream-readonly', readonly: true, partitions: [] });
      expect(await parse('stream', 'readonly', 'o', '--off', '--partitions', '1')).toMatchObject({ readonly: false, partitions: [1] });
    });
  });

  describe('publish', () => {
    it('takes values, key, headers, partition and ack policy', async () => {
      expect(await parse('publish', 's', 'a', 'b', '--key', 'k', '-H', 'x=1', '--header', 'y=2=3', '--partition', '2', '--ack-policy', 'all')).toEqual({
        kind: 'publish',
        stream: 's',
        values: ['a', 'b'],
        key: 'k',
        headers: { x: '1', y: '2=3' },
        partition: 2,
        ackPolicy: AckPolicy.ALL,
        servers: ['localhost:9292'],
        json: false,
      });
    });

    it('without values reads stdin', async () => {
      expect(await parse('publish', 's')).toMatchObject({ values: null, headers: {}, ackPolicy: AckPolicy.LEADER });
    });

    it.each([
      [['publish', 's', '--ack-policy', 'maybe'], 'leader, all or none'],
      [['publish', 's', '--header', 'novalue'], 'name=value'],
      [['publish'], "missing required argument 'stream'"],
    ])('%j is a usage error', async (args, message) => {
      const { code, output } = await exit(...args);
      expect(code).toBe(2);
      expect(output).toContain(message);
    });
  });

  describe('subscribe', () => {
    it('defaults to new messages on partition 0 until Ctrl-C', async () => {
      const command = await parse('subscribe', 's');
      expect(command).toMatchObject({ kind: 'subscribe', partition: 0, from: { position: 'new' } });
      expect(command).not.toHaveProperty('stop');
    });

    it.each([
      [['--from', 'earliest'], { partition: 0, startPosition: StartPosition.EARLIEST }],
      [['--from', 'latest', '--stop', 'latest'], { partition: 0, startPosition: StartPosition.LATEST, stopPosition: StopPosition.STOP_LATEST }],
      [['--from', 'offset:42', '--stop', 'offset:50', '-p', '3'], { partition: 3, startPosition: StartPosition.OFFSET, startOffset: 42n, stopPosition: StopPosition.STOP_OFFSET, stopOffset: 50n }],
      [
        ['--from', 'time:2026-01-01T00:00:00Z', '--stop', 'time:2026-01-01T00:00:01.5Z'],
        {
          partition: 0,
          startPosition: StartPosition.TIMESTAMP,
          startTimestamp: 1_767_225_600_000_000_000n,
          stopPosition: StopPosition.STOP_TIMESTAMP,
          stopTimestamp: 1_767_225_601_500_000_000n,
        },
      ],
    ])('%j maps to the client options', async (args, expected) => {
      const command = await parse('subscribe', 's', ...args);
      if (command.kind !== 'subscribe') throw new Error('not subscribe');
      expect(toSubscribeOptions(command)).toEqual(expected);
    });

    it.each([
      [['--from', 'yesterday'], 'earliest, latest, new'],
      [['--from', 'time:never'], 'ISO-8601'],
      [['--stop', 'earliest'], 'latest, offset:N'],
      [['--partition', '-1'], 'non-negative'],
    ])('%j is a usage error', async (args, message) => {
      const { code, output } = await exit('subscribe', 's', ...args);
      expect(code).toBe(2);
      expect(output).toContain(message);
    });
  });

  describe('bench', () => {
    it('has defaults and takes its options', async () => {
      expect(await parse('bench')).toMatchObject({ kind: 'bench', stream: 'bench', messages: 10_000, size: 100, window: 1024 });
      expect(await parse('bench', '--stream', 'b', '--messages', '5', '--size', '7', '--window', '3', '--json')).toMatchObject({
        stream: 'b',
        messages: 5,
        size: 7,
        window: 3,
        json: true,
      });
    });
  });

  describe('--help', () => {
    it.each([
      [['stream', 'create', '--help'], '--retention-max-age <duration>'],
      [['stream', 'list', '-h'], '--servers <addresses>'],
      [['stream', 'describe', '--help'], '--json'],
      [['stream', 'pause', '--help'], '--resume-all'],
      [['stream', 'resume', '--help'], '--partitions <list>'],
      [['stream', 'readonly', '--help'], '--off'],
      [['stream', 'delete', '--help'], '<name>'],
      [['stream', '--help'], 'describe'],
      [['publish', '--help'], '--ack-policy <policy>'],
      [['subscribe', '--help'], '--from <position>'],
      [['bench', '--help'], '--window <n>'],
    ])('%j exits 0 and documents the options', async (args, text) => {
      const { code, output } = await exit(...args);
      expect(code).toBe(0);
      expect(output).toContain('Usage: liftbridge');
      expect(output).toContain(text);
    });
  });

  describe('TLS options (every command)', () => {
    it.each([
      [['stream', 'list']],
      [['stream', 'describe', 's']],
      [['publish', 's', 'v']],
      [['subscribe', 's']],
      [['bench']],
    ])('%j takes --tls-ca, --tls-cert and --tls-key', async (args) => {
      const command = await parse(...args, '--tls-ca', 'ca.pem', '--tls-cert', 'c.pem', '--tls-key', 'k.pem');
      expect(command.tls).toEqual({ caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'k.pem' });
    });

    it('--tls alone turns TLS on with the root CAs; without any, plaintext', async () => {
      expect((await parse('stream', 'list', '--tls')).tls).toEqual({});
      expect((await parse('stream', 'list')).tls).toBeUndefined();
    });

    it('reads the files and hands them to the client', async () => {
      const fs = await import('node:fs');
      const os = await import('node:os');
      const path = await import('node:path');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-cli-tls-'));
      try {
        for (const name of ['ca.pem', 'c.pem', 'k.pem']) fs.writeFileSync(path.join(dir, name), `${name} contents`);
        const connect = jest.fn().mockRejectedValue(new BrokerUnavailableError('down', 14));
        const command = await parse('stream', 'list', '--tls-ca', path.join(dir, 'ca.pem'), '--tls-cert', path.join(dir, 'c.pem'), '--tls-key', path.join(dir, 'k.pem'));
        await runAdminCommand(command, bufferIo(), connect);
        const tls = connect.mock.calls[0][1];
        expect([tls.ca.toString(), tls.cert.toString(), tls.key.toString()]).toEqual(['ca.pem contents', 'c.pem contents', 'k.pem contents']);

        const io = bufferIo();
        const missing = await parse('stream', 'list', '--tls-ca', path.join(dir, 'nope.pem'));
        expect(await runAdminCommand(missing, io, connect)).toBe(2);
        expect(io.stderr()).toContain(`cannot read the file of --tls-ca: ${path.join(dir, 'nope.pem')} (ENOENT)`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses a certificate without its key (usage error)', async () => {
      const io = bufferIo();
      expect(await runAdminCommand(await parse('stream', 'list', '--tls-cert', 'c.pem'), io, () => Promise.reject(new Error('not called')))).toBe(2);
      expect(io.stderr()).toBe('liftbridge stream list: --tls-cert needs --tls-key\n');
    });

    it('says when the server cannot be verified', async () => {
      const io = bufferIo();
      const failure = new TlsHandshakeError("TLS handshake failed: the server's certificate cannot be verified with the CA given (tls.ca) (unable to verify the first certificate)", 14);
      expect(await runAdmin(argv('stream', 'list', '--tls'), io, VERSION, () => Promise.reject(failure))).toBe(1);
      expect(io.stderr()).toBe(
        "liftbridge stream list: TLS handshake failed: the server's certificate cannot be verified with the CA given (tls.ca) (unable to verify the first certificate); see --tls-ca, --tls-cert and --tls-key\n",
      );
    });
  });

  describe('running', () => {
    const fakeClient = (methods: Partial<Record<keyof LiftbridgeClient, unknown>>): LiftbridgeClient =>
      ({ close: jest.fn(), ...methods }) as unknown as LiftbridgeClient;

    it('prints a table of streams and closes the client', async () => {
      const client = fakeClient({
        fetchMetadata: jest.fn().mockResolvedValue({
          brokers: [],
          groupMetadata: [],
          streamMetadata: [
            { name: 'zeta', subject: 'z', error: 0, partitions: { 0: {} }, creationTimestamp: 0n },
            { name: 'alpha', subject: 'a.>', error: 0, partitions: { 0: {}, 1: {} }, creationTimestamp: 1_767_225_600_000_000_000n },
          ],
        }),
      });
      const io = bufferIo();
      expect(await runAdmin(argv('stream', 'list'), io, VERSION, () => Promise.resolve(client))).toBe(0);
      expect(io.stdout()).toBe(
        'NAME   SUBJECT  PARTITIONS  CREATED\n' + 'alpha  a.>      2           2026-01-01T00:00:00.000Z\n' + 'zeta   z        1\n',
      );
      expect(client.close).toHaveBeenCalled();
    });

    it('reports a server error with exit 1 and the reason on stderr', async () => {
      const client = fakeClient({ deleteStream: jest.fn().mockRejectedValue(new NoSuchStreamError('no such stream: nope', 5)) });
      const io = bufferIo();
      const command = await parse('stream', 'delete', 'nope');
      expect(await runAdminCommand(command, io, () => Promise.resolve(client))).toBe(1);
      expect(io.stderr()).toBe('liftbridge stream delete: no such stream: nope\n');
      expect(io.stdout()).toBe('');
    });

    it('says when no server can be reached', async () => {
      const io = bufferIo();
      const unavailable = new BrokerUnavailableError(
        'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:9292. Resolution note: ',
        14,
      );
      expect(await runAdmin(argv('stream', 'list'), io, VERSION, () => Promise.reject(unavailable))).toBe(1);
      expect(io.stderr()).toContain('cannot reach a server (ECONNREFUSED 127.0.0.1:9292)');
    });

    it('prints usage errors on stderr with exit 2, help on stdout with exit 0', async () => {
      const io = bufferIo();
      expect(await runAdmin(argv('stream', 'list', '--nope'), io, VERSION, () => Promise.reject(new Error('not called')))).toBe(2);
      expect(io.stderr()).toContain("unknown option '--nope'");
      expect(await runAdmin(argv('bench', '--help'), io, VERSION, () => Promise.reject(new Error('not called')))).toBe(0);
      expect(io.stdout()).toContain('Usage: liftbridge bench');
    });
  });
});

describe('the server help', () => {
  it('lists the admin commands after the server options', async () => {
    const { parseServerInvocation } = await import('../../../../../src/infrastructure/cli/server-options');
    const r = await parseServerInvocation(argv('--help'), {}, VERSION);
    expect(r).toMatchObject({ kind: 'exit', code: 0 });
    const output = r.kind === 'exit' ? r.output : '';
    expect(output).toContain('Usage: liftbridge [options]');
    expect(output.indexOf('--tls-cert')).toBeLessThan(output.indexOf('Admin commands'));
    for (const command of ['stream create|list|describe|delete|pause|resume|readonly', 'publish <stream>', 'subscribe <stream>', 'bench']) {
      expect(output).toContain(command);
    }
    for (const line of output.split('\n')) expect(line.length).toBeLessThanOrEqual(84);
  });
});
