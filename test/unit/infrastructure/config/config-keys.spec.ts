import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../../../src/infrastructure/config/config-file';
import { CONFIG_KEYS, envVarName } from '../../../../src/infrastructure/config/config-keys';
import { resolveBrokerConfig } from '../../../../src/infrastructure/config/load-config';

/** Liftbridge's 62 file keys, in the order of its documentation. */
const SPEC_KEYS = `listen host port data.dir metadata.cache.max.age logging.level logging.recovery logging.raft
logging.nats batch.max.messages batch.max.time tls.key tls.cert tls.client.auth.enabled tls.client.auth.ca
tls.client.authz.enabled tls.client.authz.model tls.client.authz.policy nats.servers nats.user nats.password
nats.tls.cert nats.tls.key nats.tls.ca nats.embedded nats.embedded.config streams.retention.max.bytes
streams.retention.max.messages streams.retention.max.age streams.cleaner.interval streams.segment.max.bytes
streams.segment.max.age streams.compact.enabled streams.compact.max.goroutines streams.auto.pause.time
streams.auto.pause.disable.if.subscribers streams.concurrency.control streams.encryption clustering.server.id
clustering.namespace clustering.raft.snapshot.retain clustering.raft.snapshot.threshold clustering.raft.cache.size
clustering.raft.bootstrap.seed clustering.raft.bootstrap.peers clustering.raft.max.quorum.size
clustering.replica.max.lag.time clustering.replica.max.leader.timeout clustering.replica.max.idle.wait
clustering.replica.fetch.timeout clustering.min.insync.replicas clustering.replication.max.bytes
activity.stream.enabled activity.stream.publish.timeout activity.stream.publish.ack.policy
cursors.stream.partitions cursors.stream.replication.factor cursors.stream.auto.pause.time
groups.consumer.timeout groups.coordinator.timeout telemetry.enabled telemetry.interval.seconds`.split(/\s+/);

const OUR_KEYS = [
  'clustering.broker.heartbeat.interval',
  'clustering.broker.timeout',
  'logging.format',
  'streams.sync.policy',
  'streams.sync.interval',
  'streams.open.files.max',
  'nats.embedded.port',
  'nats.embedded.binary',
  'nats.connect.timeout',
  'nats.ping.interval',
  'nats.ping.max.outstanding',
  'nats.credentials',
  'http.port',
  'http.host',
  'metrics.enabled',
  'clustering.auth.secret',
  'clustering.auth.secret.file',
  'clustering.raft.seed',
];

describe('the configuration key table', () => {
  it('has the 62 keys of the Go server and our 18 additions, each once', () => {
    expect(SPEC_KEYS).toHaveLength(62);
    const keys = CONFIG_KEYS.map((s) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(CONFIG_KEYS.filter((s) => s.origin !== 'addition').map((s) => s.key)).toEqual(SPEC_KEYS);
    expect(CONFIG_KEYS.filter((s) => s.origin === 'addition').map((s) => s.key).sort()).toEqual([...OUR_KEYS].sort());
    expect(CONFIG_KEYS.filter((s) => s.origin === 'ignored').map((s) => s.key)).toEqual(['telemetry.enabled', 'telemetry.interval.seconds']);
  });

  it('gives every key its own environment variable', () => {
    const names = CONFIG_KEYS.map((s) => envVarName(s.key));
    expect(new Set(names).size).toBe(names.length);
    expect(envVarName('streams.segment.max.bytes')).toBe('LIFTBRIDGE_STREAMS_SEGMENT_MAX_BYTES');
    expect(names).not.toContain('LIFTBRIDGE_ENCRYPTION_KEY');
    expect(names).not.toContain('LIFTBRIDGE_NATS_SERVER_BIN');
  });

  const doc = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'configuration.md'), 'utf8');

  it('is fully documented in docs/configuration.md', () => {
    for (const spec of CONFIG_KEYS) {
      expect(doc).toContain(`| \`${spec.key}\``);
      expect(doc).toContain(`\`${envVarName(spec.key)}\``);
    }
  });

  it('has a YAML example in the docs that loads', () => {
    const example = /```yaml\n(# liftbridge\.yaml[\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const parsed = parseConfigText(example!, 'liftbridge.yaml');
    expect(parsed.ok && resolveBrokerConfig({ file: parsed.value.settings, env: {} }).ok).toBe(true);
  });
});
