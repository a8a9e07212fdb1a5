import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  parseServerInvocation,
  readServerFlags,
  registerServerOptions,
  resolveServerInvocation,
  type ServerInvocation,
} from '../../../../src/infrastructure/cli/server-options';
import { defaultBrokerConfig, type BrokerConfig } from '../../../../src/infrastructure/config/broker-config';

const VERSION = '1.2.3-test';
const fixture = (...parts: string[]): string => join(__dirname, '..', 'config', 'fixtures', ...parts);

const invoke = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ServerInvocation> =>
  parseServerInvocation(['/usr/bin/node', '/opt/liftbridge/bin/liftbridge.js', ...args], env, VERSION);

async function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<BrokerConfig> {
  const r = await invoke(args, env);
  if (r.kind !== 'run') throw new Error(`expected run, got exit ${r.code}:\n${r.output}`);
  return r.config;
}

async function exit(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string }> {
  const r = await invoke(args, env);
  if (r.kind !== 'exit') throw new Error('expected exit');
  return { code: r.code, output: r.output };
}

describe('the server command line', () => {
  let exitSpy: jest.SpyInstance;
  beforeEach(() => {
    exitSpy = jest.spyOn(process, 'exit').mockImplementation((code?: string | number | null) => {
      throw new Error(`process.exit(${String(code)}) called`);
    });
  });
  afterEach(() => exitSpy.mockRestore());

  describe('--help and --version', () => {
    it.each([['--help'], ['-h']])('%s lists every option with a one-line description and exits 0', async (flag) => {
      const { code, output } = await exit([flag]);
      expect(code).toBe(0);
      expect(output).toContain('Usage: liftbridge [options]');
      const expected: Array<[string, string]> = [
        ['-c, --config <file>', 'configuration file'],
        ['--id, --server-id <id>', 'server id'],
        ['--ns, --namespace <ns>', 'namespace'],
        ['--host <host>', 'advertised host'],
        ['-p, --port <port>', 'port'],
        ['-d, --data-dir <dir>', 'data dir'],
        ['-n, --nats-servers <urls>', 'NATS URLs'],
        ['-e, --embedded-nats', 'embedded nats-server'],
        ['--nc, --embedded-nats-config <file>', 'embedded nats-server config'],
        ['--raft-bootstrap-seed', 'single-server cluster'],
        ['--raft-bootstrap-peers <ids>', 'server ids'],
        ['-l, --level <level>', 'log level'],
        ['--tls-key <file>', 'TLS key'],
        ['--tls-cert <file>', 'TLS certificate'],
        ['-v, --version', 'version'],
        ['-h, --help', 'help'],
      ];
      const lines = output.split('\n');
      for (const [flags, description] of expected) {
        const line = lines.find((l) => l.trimStart().startsWith(`${flags} `));
        expect(line).toBeDefined();
        expect(line).toContain(description);
        expect(line!.length).toBeLessThanOrEqual(80);
      }
      expect(output).toContain('LIFTBRIDGE_<KEY>');
    });

    it.each([['--version'], ['-v']])('%s prints the version and exits 0', async (flag) => {
      expect(await exit([flag])).toEqual({ code: 0, output: `${VERSION}\n` });
    });
  });

  describe('flags', () => {
    it('without arguments runs with the default configuration', async () => {
      expect(await run([])).toEqual(defaultBrokerConfig());
    });

    it('maps every flag onto its configuration key', async () => {
      const c = await run([
        '--id', 'a',
        '--ns', 'prod',
        '--host', 'broker-1.example',
        '-p', '5050',
        '-d', '/var/lib/liftbridge',
        '-n', 'nats://n1:4222',
        '--embedded-nats',
        '--raft-bootstrap-peers', 'a,b, c',
        '-l', 'DEBUG',
      ]);
      expect(c.clustering.serverId).toBe('a');
      expect(c.clustering.namespace).toBe('prod');
      expect(c.advertise).toEqual({ host: 'broker-1.example', port: 5050 });
      expect(c.listen).toEqual({ host: 'broker-1.example', port: 5050 });
      expect(c.dataDir).toBe('/var/lib/liftbridge');
      expect(c.nats).toMatchObject({ servers: ['nats://n1:4222'], embedded: true });
      expect(c.clustering.raftBootstrapPeers).toEqual(['a', 'b', 'c']);
      expect(c.logging.level).toBe('debug');
    });

    it('applies --tls-key and --tls-cert, and refuses a key that does not match the certificate, naming it', async () => {
      const c = await run(['--tls-key', fixture('tls', 'server.key'), '--tls-cert', fixture('tls', 'server.crt')]);
      expect(c.tls).toMatchObject({ key: fixture('tls', 'server.key'), cert: fixture('tls', 'server.crt') });
      const { code, output } = await exit(['--tls-key', fixture('tls', 'other.key'), '--tls-cert', fixture('tls', 'server.crt')]);
      expect(code).toBe(2);
      expect(output).toContain('The files of "tls.key" and "tls.cert" are not a usable PEM key and certificate pair');
    });

    it('refuses a setting that needs a missing feature, and still runs with its "off" value', async () => {
      const { code, output } = await exit([], { LIFTBRIDGE_STREAMS_COMPACT_ENABLED: 'true' });
      expect(code).toBe(2);
      expect(output).toContain('"streams.compact.enabled" is true, but log compaction is not implemented yet; accepted: false');
      expect((await run([], { LIFTBRIDGE_STREAMS_COMPACT_ENABLED: 'false' })).streams.compactEnabled).toBe(false);
    });

    it('accepts the long aliases', async () => {
      const c = await run(['--server-id', 'b', '--namespace', 'ns2', '--port', '6000', '--data-dir', '/d', '--level', 'warn', '--raft-bootstrap-seed']);
      expect(c.clustering).toMatchObject({ serverId: 'b', namespace: 'ns2', raftBootstrapSeed: true });
      expect(c.advertise.port).toBe(6000);
      expect(c.dataDir).toBe('/d');
      expect(c.logging.level).toBe('warn');
    });

    it('splits --nats-servers on commas, trims, drops empties and keeps order across repeats (TestNormalizeNatsServers)', async () => {
      const c = await run([
        '--nats-servers', '  nats://localhost:1111,    nats://localhost:2222  ,nats://localhost:3333',
        '-n', ',,nats://localhost:4444,',
      ]);
      expect(c.nats.servers).toEqual(['nats://localhost:1111', 'nats://localhost:2222', 'nats://localhost:3333', 'nats://localhost:4444']);
      expect(c.nats.embedded).toBe(false);
    });

    it('--embedded-nats-config points at a readable nats-server config and implies embedded', async () => {
      const c = await run(['--nc', fixture('seed-readme.conf')]);
      expect(c.nats).toMatchObject({ embedded: true, embeddedConfig: fixture('seed-readme.conf'), servers: ['nats://127.0.0.1:4222'] });
    });
  });

  describe('with a config file and the environment', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'liftbridge-cli-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('applies flags over the environment over the file', async () => {
      const file = join(dir, 'liftbridge.yaml');
      await writeFile(file, 'port: 1111\nlogging.level: warn\nclustering.namespace: file-ns\ndata.dir: /from/file\n');
      const env = { LIFTBRIDGE_PORT: '2222', LIFTBRIDGE_CLUSTERING_NAMESPACE: 'env-ns' };
      const c = await run(['-c', file, '--port', '3333'], env);
      expect(c.advertise.port).toBe(3333);
      expect(c.clustering.namespace).toBe('env-ns');
      expect(c.logging.level).toBe('warn');
      expect(c.dataDir).toBe('/from/file');
    });

    it('loads the seed README example given with --config', async () => {
      const c = await run(['--config', fixture('seed-readme.conf')]);
      expect(c.clustering.serverId).toBe('server-2');
      expect(c.nats.servers).toEqual(['nats://localhost:4300', 'nats://localhost:4301']);
    });

    it('exits 2 naming the file when it cannot be read', async () => {
      const missing = join(dir, 'nope.yaml');
      expect(await exit(['-c', missing])).toEqual({
        code: 2,
        output: `Invalid configuration:\n  Cannot read configuration file ${JSON.stringify(missing)}: ENOENT\n`,
      });
    });

    it('exits 2 with the YAML line of a syntax error', async () => {
      const file = join(dir, 'bad.yaml');
      await writeFile(file, 'port: 1\nnats:\n  servers: [a\n');
      const { code, output } = await exit(['-c', file]);
      expect(code).toBe(2);
      expect(output).toMatch(/YAML syntax error at line \d+/);
    });
  });

  describe('errors exit with code 2 and a readable message', () => {
    it('names the key, the value and the flag', async () => {
      expect(await exit(['--port', 'abc'])).toEqual({
        code: 2,
        output: 'Invalid configuration:\n  Invalid value for "port": "abc" (expected an integer between 0 and 65535) (from flag --port)\n',
      });
      expect((await exit(['-l', 'loud'])).output).toContain('Invalid logging.level setting "loud" (from flag --level)');
      expect((await exit(['--id', 'a.b'])).output).toContain('"clustering.server.id": "a.b"');
    });

    it('names the environment variable', async () => {
      const { code, output } = await exit([], { LIFTBRIDGE_CLUSTERING_REPLICA_MAX_LAG_TIME: '0' });
      expect(code).toBe(2);
      expect(output).toContain('(from environment LIFTBRIDGE_CLUSTERING_REPLICA_MAX_LAG_TIME)');
    });

    it('reports a TLS key without a certificate', async () => {
      expect((await exit(['--tls-key', fixture('tls', 'server.key')])).output).toContain(
        '"tls.key" is set but "tls.cert" is not: TLS needs both (from flag --tls-key)',
      );
    });

    it('reports a TLS key that does not match the certificate', async () => {
      const { code, output } = await exit(['--tls-key', fixture('tls', 'other.key'), '--tls-cert', fixture('tls', 'server.crt')]);
      expect(code).toBe(2);
      expect(output).toContain('The files of "tls.key" and "tls.cert" are not a usable PEM key and certificate pair');
    });

    it.each([
      [['--bogus'], "unknown option '--bogus'"],
      [['serve'], 'too many arguments'],
      [['--port'], "option '-p, --port <port>' argument missing"],
    ])('rejects the usage %j', async (args, message) => {
      const { code, output } = await exit(args);
      expect(code).toBe(2);
      expect(output).toContain(message);
      expect(output).toContain('liftbridge --help');
    });
  });

  describe('reuse in a larger program (future admin subcommands)', () => {
    it('registers the server options on any command and resolves them', async () => {
      const program = registerServerOptions(new Command('liftbridge').exitOverride());
      const ran: string[] = [];
      program.command('admin').action(() => {
        ran.push('admin');
      });
      program.action(() => {
        ran.push('server'); // the default action runs the broker
      });
      await program.parseAsync(['--id', 'z', '--port', '7000'], { from: 'user' });
      const r = await resolveServerInvocation(readServerFlags(program), {});
      expect(r.kind === 'run' && r.config.clustering.serverId).toBe('z');
      expect(r.kind === 'run' && r.config.advertise.port).toBe(7000);
      await program.parseAsync(['admin'], { from: 'user' });
      expect(ran).toEqual(['server', 'admin']);
    });
  });
});
