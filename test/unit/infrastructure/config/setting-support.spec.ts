import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrokerConfig } from '../../../../src/infrastructure/config/broker-config';
import { parseConfigText } from '../../../../src/infrastructure/config/config-file';
import { CONFIG_KEYS } from '../../../../src/infrastructure/config/config-keys';
import { resolveBrokerConfig } from '../../../../src/infrastructure/config/load-config';
import { SETTING_SUPPORT, unimplementedSettingIssues } from '../../../../src/infrastructure/config/setting-support';

/** Parses and resolves a YAML or brace file; throws on anything but a loaded configuration. */
function load(text: string, fileName = 'liftbridge.yaml'): BrokerConfig {
  const parsed = parseConfigText(text, fileName);
  if (!parsed.ok) throw new Error(parsed.error.map((i) => i.message).join('\n'));
  // A usable master key, so that `streams.encryption: true` gets as far as the refusal.
  const resolved = resolveBrokerConfig({ file: parsed.value.settings, env: { LIFTBRIDGE_ENCRYPTION_KEY: '0123456789abcdef' } });
  if (!resolved.ok) throw new Error(resolved.error.map((i) => i.message).join('\n'));
  return resolved.value;
}

const refusals = (text: string): string[] => unimplementedSettingIssues(load(text)).map((i) => i.message);

/**
 * For every refused key: a setting that asks for what is missing (refused, with its message) and
 * the values that still load. A refused key without a row here fails the first test.
 */
const REFUSED: Record<string, { readonly asks: string; readonly message: string; readonly loads: readonly string[] }> = {
  'batch.max.time': { asks: 'batch.max.time: 10ms', message: '"batch.max.time" is 10ms, but waiting to fill a batch is not implemented yet', loads: ['batch.max.time: 0'] },
  'streams.compact.enabled': { asks: 'streams.compact.enabled: true', message: '"streams.compact.enabled" is true, but log compaction is not implemented yet; accepted: false', loads: ['streams.compact.enabled: false'] },
  'clustering.raft.snapshot.retain': {
    asks: 'clustering.raft.snapshot.retain: 10',
    message: '"clustering.raft.snapshot.retain" is 10, but keeping more than one Raft snapshot is not implemented yet',
    loads: ['clustering.raft.snapshot.retain: 1', 'clustering.raft.snapshot.retain: 2'],
  },
  'clustering.raft.max.quorum.size': { asks: 'clustering.raft.max.quorum.size: 3', message: '"clustering.raft.max.quorum.size" is 3, but non-voting Raft members is not implemented yet', loads: ['clustering.raft.max.quorum.size: 0'] },
};

describe('what the server does with each configuration key', () => {
  it('classifies every key, and has a case below for every refusal', () => {
    expect(Object.keys(SETTING_SUPPORT).sort()).toEqual(CONFIG_KEYS.map((k) => k.key).sort());
    const refused = Object.entries(SETTING_SUPPORT).filter(([, s]) => s.kind === 'refused').map(([k]) => k);
    expect(refused.sort()).toEqual(Object.keys(REFUSED).sort());
  });

  it('accepts the defaults', () => {
    expect(refusals('')).toEqual([]);
  });

  it('applies every NATS security setting, nats.tls.ca alone included (TLS without a client certificate)', () => {
    for (const key of ['nats.user', 'nats.password', 'nats.tls.cert', 'nats.tls.key', 'nats.tls.ca', 'nats.credentials']) expect(SETTING_SUPPORT[key]).toEqual({ kind: 'applied' });
    expect(refusals('nats.tls.ca: ca.pem')).toEqual([]);
  });

  it.each(Object.entries(REFUSED))('%s: refuses what would need a missing feature, naming the key', (key, { asks, message, loads }) => {
    const issues = unimplementedSettingIssues(load(asks));
    expect(issues.map((i) => i.key)).toContain(key);
    expect(issues.find((i) => i.key === key)!.message).toContain(message);
    for (const text of loads) expect(refusals(text)).toEqual([]);
  });

  it('applies the server-wide auto-pause defaults (docs/consumers.md "Auto-pause")', () => {
    for (const key of ['streams.auto.pause.time', 'streams.auto.pause.disable.if.subscribers']) expect(SETTING_SUPPORT[key]).toEqual({ kind: 'applied' });
    const text = 'streams.auto.pause.time: 30s\nstreams.auto.pause.disable.if.subscribers: true';
    expect(refusals(text)).toEqual([]);
    expect(load(text).streams).toMatchObject({ autoPauseTimeMs: 30_000, autoPauseDisableIfSubscribers: true });
  });

  it('accepts, with any value, the keys that change nothing here', () => {
    const inert = Object.entries(SETTING_SUPPORT).filter(([, s]) => s.kind === 'accepted').map(([k]) => k);
    expect(inert.sort()).toEqual(
      [
        'metadata.cache.max.age',
        'clustering.raft.cache.size',
        'streams.compact.max.goroutines',
        'telemetry.enabled',
        'telemetry.interval.seconds',
      ].sort(),
    );
    const text = [
      'metadata.cache.max.age: 1m',
      'clustering.raft.cache.size: 5',
      'streams.compact.max.goroutines: 2',
      'activity.stream: {publish.timeout: 1m, publish.ack.policy: leader}',
      'cursors.stream: {replication.factor: 3, auto.pause.time: 1m}',
      'groups: {consumer.timeout: 1m, coordinator.timeout: 2m}',
      'telemetry: {enabled: true, interval.seconds: 60}',
    ].join('\n');
    expect(refusals(text)).toEqual([]);
  });

  it('loads the configuration files Liftbridge ships (docker dev-standalone, Kubernetes, the README example)', () => {
    const readme = readFileSync(join(__dirname, 'fixtures', 'seed-readme.conf'), 'utf8');
    expect(unimplementedSettingIssues(load(readme, 'liftbridge.conf'))).toEqual([]);
    expect(refusals('host: 0.0.0.0\nclustering.raft.bootstrap.seed: true\nnats.embedded.config: nats-server.conf\nlogging.nats: true\n')).toEqual([]);
    expect(unimplementedSettingIssues(load('listen: 0.0.0.0:9292\n\nclustering {\n  min.insync.replicas: 1\n}\n', 'liftbridge.conf'))).toEqual([]);
  });

  it('lists each refusal of Liftbridge\'s full test file (TestNewConfigFromFile)', () => {
    const full = readFileSync(join(__dirname, 'fixtures', 'full.yaml'), 'utf8');
    expect(unimplementedSettingIssues(load(full)).map((i) => i.key)).toEqual([
      'batch.max.time',
      'streams.compact.enabled',
      'clustering.raft.snapshot.retain',
    ]);
  });
});
