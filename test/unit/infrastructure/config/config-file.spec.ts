import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_FILE_MAX_BYTES, parseConfigText, readConfigFile } from '../../../../src/infrastructure/config/config-file';
import type { ConfigIssue, SettingLayer } from '../../../../src/infrastructure/config/config-settings';

const settingsOf = (text: string): SettingLayer => {
  const r = parseConfigText(text, '/etc/liftbridge.yaml');
  if (!r.ok) throw new Error(r.error.map((i) => i.message).join('\n'));
  return r.value.settings;
};
const issuesOf = (text: string): readonly ConfigIssue[] => {
  const r = parseConfigText(text, '/etc/liftbridge.yaml');
  if (r.ok) throw new Error('expected issues');
  return r.error;
};
const plain = (layer: SettingLayer): Record<string, unknown> =>
  Object.fromEntries([...layer.values()].map((s) => [s.key, s.value]));

describe('reading a configuration file', () => {
  describe('YAML', () => {
    it('treats nested maps and flattened dotted keys as the same keys, and lets them mix', () => {
      const nested = settingsOf('batch:\n  max:\n    messages: 10\n    time: 1s\n');
      const mixed = settingsOf('batch.max: {messages: 10, time: 1s}\n');
      const flat = settingsOf('batch.max.messages: 10\nbatch.max.time: 1s\n');
      expect(plain(nested)).toEqual({ 'batch.max.messages': '10', 'batch.max.time': '1s' });
      expect(plain(mixed)).toEqual(plain(nested));
      expect(plain(flat)).toEqual(plain(nested));
    });

    it('keeps plain scalars as written and records the line of each setting', () => {
      const layer = settingsOf('# comment\nnats:\n  password: 0123\n  servers:\n    - nats://a:1\n    - nats://b:2\n');
      expect(layer.get('nats.password')).toEqual({
        key: 'nats.password',
        value: '0123',
        source: { kind: 'file', description: 'liftbridge.yaml line 3' },
      });
      expect(layer.get('nats.servers')?.value).toEqual(['nats://a:1', 'nats://b:2']);
    });

    it('treats keys case-insensitively and an empty value as unset', () => {
      expect(plain(settingsOf('Logging.Level: debug\nhost:\ndata.dir: ~\n'))).toEqual({ 'logging.level': 'debug' });
    });

    it('reads an empty file, or one with only comments, as no settings (all defaults)', () => {
      expect(settingsOf('').size).toBe(0);
      expect(settingsOf('# nothing here\n\n').size).toBe(0);
      expect(settingsOf('---\n').size).toBe(0);
    });

    it('ignores a UTF-8 byte order mark', () => {
      expect(plain(settingsOf('\uFEFFport: 5050\n'))).toEqual({ port: '5050' });
    });

    it('rejects an unknown key, naming it and its line (C1)', () => {
      expect(issuesOf('port: 1\nfoo.bar.baz: 1\n')).toEqual([
        { key: 'foo.bar.baz', message: 'Unknown configuration setting "foo.bar.baz"', source: 'liftbridge.yaml line 2' },
      ]);
    });

    it('points at the current name when a YAML file uses a pre-1.0 key', () => {
      expect(issuesOf('log.level: debug\n')[0]?.message).toBe(
        'Unknown configuration setting "log.level" (a pre-1.0 key: use "logging.level")',
      );
    });

    it('reports a YAML syntax error with its line (C14)', () => {
      const [i] = issuesOf('port: 1\nnats:\n  servers: [a, b\nhost: x\n');
      expect(i?.message).toMatch(/^YAML syntax error at line \d+, column \d+: .+ in configuration file "\/etc\/liftbridge.yaml"$/);
      expect(issuesOf('a: [\n')[0]?.message).toContain('YAML syntax error at line');
    });

    it('reports a key written twice, in YAML or across nested and dotted forms (C14)', () => {
      expect(issuesOf('port: 1\nport: 2\n')[0]?.message).toMatch(/YAML syntax error at line 2.*unique/);
      expect(issuesOf('batch.max.messages: 1\nbatch:\n  max.messages: 2\n')).toEqual([
        {
          key: 'batch.max.messages',
          message: 'Duplicate configuration setting "batch.max.messages" (also set at liftbridge.yaml line 1)',
          source: 'liftbridge.yaml line 3',
        },
      ]);
    });

    it('rejects a document that is not a map of settings', () => {
      expect(issuesOf('- a\n- b\n')[0]?.message).toContain('the configuration must be a map of settings');
    });

    it('rejects lists of maps and aliases', () => {
      expect(issuesOf('nats:\n  servers:\n    - {a: 1}\n')[0]?.message).toContain('may only contain plain values');
      expect(issuesOf('port: &p 1\nhost: *p\n')[0]?.message).toContain('aliases are not supported');
    });

    it('collects every problem of the file at once', () => {
      expect(issuesOf('foo: 1\nbar: 2\n').map((i) => i.key)).toEqual(['foo', 'bar']);
    });
  });

  describe('pre-1.0 brace format', () => {
    it('maps the renamed keys onto today\'s keys', () => {
      const r = parseConfigText(
        'log.level: debug\nlog { segment.max.bytes: 10; log.roll.time: "2m"; compact: true }\n' +
          'clustering { raft.logging: true }\nbatch.wait.time: "5ms"\ntls.client.auth: false\n',
        '/etc/liftbridge.conf',
      );
      expect(r.ok && r.value.format).toBe('brace');
      expect(r.ok && plain(r.value.settings)).toEqual({
        'logging.level': 'debug',
        'streams.segment.max.bytes': 10,
        'streams.segment.max.age': '2m',
        'streams.compact.enabled': true,
        'logging.raft': true,
        'batch.max.time': '5ms',
        'tls.client.auth.enabled': false,
      });
    });

    it('lets the key type decide between a NATS size and a duration for a bare 1m', () => {
      const r = parseConfigText('log { cleaner.interval = 1m\n segment.max.bytes = 1m }', 'x.conf');
      expect(r.ok && plain(r.value.settings)).toEqual({ 'streams.cleaner.interval': '1m', 'streams.segment.max.bytes': 1_000_000 });
    });

    it('reports a syntax error with its line', () => {
      const r = parseConfigText('nats {\n  servers: [a\n', '/etc/liftbridge.conf');
      expect(!r.ok && r.error[0]?.message).toBe(
        'Syntax error at line 3 in configuration file "/etc/liftbridge.conf": missing "]" to close the list "nats.servers" opened at line 2',
      );
    });

    it('rejects unknown keys, and an old key used twice through its two spellings', () => {
      const r = parseConfigText('nats { servers: [a], embeded: true }\nlog.level: info\nlog { level: debug }\n', 'x.conf');
      expect(!r.ok && r.error.map((i) => i.message)).toEqual([
        'Unknown configuration setting "nats.embeded"',
        'Duplicate configuration setting "logging.level" (also set at x.conf line 2)',
      ]);
    });

    it('falls back to the brace parser for a whitespace-assigned file that YAML reads as one string', () => {
      const r = parseConfigText('port 5050\n', 'x.conf');
      expect(r.ok && r.value.format).toBe('brace');
      expect(r.ok && plain(r.value.settings)).toEqual({ port: 5050 });
    });
  });

  describe('from disk', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'liftbridge-config-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reads a YAML file', async () => {
      const path = join(dir, 'liftbridge.yaml');
      await writeFile(path, 'port: 5050\n');
      const r = await readConfigFile(path);
      expect(r.ok && r.value.settings.get('port')?.value).toBe('5050');
    });

    it('reports a missing file (TestNewConfigFileNotFound)', async () => {
      const path = join(dir, 'missing.yaml');
      const r = await readConfigFile(path);
      expect(!r.ok && r.error[0]?.message).toBe(`Cannot read configuration file ${JSON.stringify(path)}: ENOENT`);
    });

    it('reports a directory given as the file', async () => {
      const r = await readConfigFile(dir);
      expect(!r.ok && r.error[0]?.message).toContain('not a regular file');
    });

    it('refuses an oversized file before parsing it (C14)', async () => {
      const path = join(dir, 'huge.yaml');
      await writeFile(path, Buffer.alloc(CONFIG_FILE_MAX_BYTES + 1, 0x23));
      const r = await readConfigFile(path);
      expect(!r.ok && r.error[0]?.message).toContain('is too large');
    });
  });
});
