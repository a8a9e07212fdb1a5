import { defaultBrokerConfig } from '../../../../src/infrastructure/config/broker-config';
import { environmentLayer } from '../../../../src/infrastructure/config/load-config';
import { fixture, resolve, configOf, yaml, yamlErrors } from './config-inputs';

describe('resolving the broker configuration', () => {
  describe('defaults', () => {
    it('with no file, environment or flags equals defaultBrokerConfig()', () => {
      expect(configOf({})).toEqual(defaultBrokerConfig());
    });

    it('has the defaults pinned by TestNewConfigDefault, and our additions', () => {
      const c = configOf({});
      expect(c.clustering.raftCacheSize).toBe(512);
      expect(c.clustering.namespace).toBe('liftbridge-default');
      expect(c.batch.maxMessages).toBe(1024);
      expect(c.dataDir).toBe('/tmp/liftbridge/liftbridge-default');
      expect(c.streams.segmentMaxAgeMs).toBe(168 * 3_600_000);
      expect(c.logging.format).toBe('json');
      expect(c.streams.syncPolicy).toBe('always');
      expect(c.streams.syncIntervalMs).toBe(1000);
      expect(c.nats.embeddedPort).toBe(4222);
      expect(c.clustering.serverId).toBeNull();
    });

    it('treats an empty file as all defaults (C14)', () => {
      expect(yaml('')).toEqual(defaultBrokerConfig());
    });
  });

  describe('a full YAML file (TestNewConfigFromFile)', () => {
    it('maps every key', () => {
      const c = yaml(fixture('full.yaml'));
      expect(c.listen).toEqual({ host: 'localhost', port: 9293 });
      expect(c.advertise).toEqual({ host: '0.0.0.0', port: 5050 });
      expect(c.logging).toEqual({ level: 'debug', recovery: true, raft: true, nats: true, format: 'json' });
      expect(c.dataDir).toBe('/foo');
      expect(c.batch).toEqual({ maxMessages: 10, maxTimeMs: 1000 });
      expect(c.metadataCacheMaxAgeMs).toBe(60_000);
      expect(c.streams).toMatchObject({
        retentionMaxBytes: 1024,
        retentionMaxMessages: 100,
        retentionMaxAgeMs: 3_600_000,
        cleanerIntervalMs: 60_000,
        segmentMaxBytes: 64,
        segmentMaxAgeMs: 60_000,
        compactEnabled: true,
        compactMaxGoroutines: 2,
        concurrencyControl: false,
      });
      expect(c.clustering).toEqual({
        serverId: 'foo',
        namespace: 'bar',
        raftSnapshotRetain: 10,
        raftSnapshotThreshold: 100,
        raftCacheSize: 5,
        raftBootstrapSeed: false,
        raftBootstrapPeers: ['a', 'b'],
        raftMaxQuorumSize: 0,
        raftSeed: null,
        replicaMaxLagTimeMs: 60_000,
        replicaMaxLeaderTimeoutMs: 30_000,
        replicaMaxIdleWaitMs: 2000,
        replicaFetchTimeoutMs: 3000,
        brokerHeartbeatIntervalMs: 500,
        brokerTimeoutMs: 3000,
        minInsyncReplicas: 1,
        replicationMaxBytes: 1024,
      });
      expect(c.activity).toEqual({ streamEnabled: true, publishTimeoutMs: 60_000, publishAckPolicy: 'leader' });
      expect(c.nats).toEqual({
        servers: ['nats://localhost:4222'],
        user: 'user',
        password: 'pass',
        embedded: true,
        embeddedConfig: 'nats.conf',
        embeddedPort: 4222,
        connectTimeoutMs: 0,
        pingIntervalMs: 2000,
        pingMaxOutstanding: 3,
      });
      expect(c.cursors).toEqual({ streamPartitions: 2, streamReplicationFactor: 3, streamAutoPauseTimeMs: 60_000 });
      expect(c.groups).toEqual({ consumerTimeoutMs: 60_000, coordinatorTimeoutMs: 120_000 });
    });

    it('merges file values with the defaults (TestNewConfigDefaultAndFile)', () => {
      const c = yaml('clustering:\n  namespace: ns1\n');
      expect(c.clustering.namespace).toBe('ns1');
      expect(c.clustering.raftCacheSize).toBe(512);
      expect(c.dataDir).toBe('/tmp/liftbridge/ns1');
    });

    it('reads NATS credentials (TestNewConfigNATSAuth) and TLS paths (TestNewConfigTLS)', () => {
      const c = yaml('nats.user: admin\nnats.password: password\nnats.servers: [nats://n:4222]\ntls:\n  key: ./k.pem\n  cert: ./c.pem\n');
      expect(c.nats.user).toBe('admin');
      expect(c.nats.password).toBe('password');
      expect(c.tls).toEqual({ key: './k.pem', cert: './c.pem', clientAuthEnabled: false, clientAuthzEnabled: false });
    });

    it('accepts telemetry keys and ignores them: telemetry is always off', () => {
      expect(yaml('telemetry.enabled: true\ntelemetry.interval.seconds: 60\n')).toEqual(defaultBrokerConfig());
      expect(yamlErrors('telemetry.enabled: sometimes\n')[0]).toContain('"telemetry.enabled"');
    });
  });

  describe('listen and advertise addresses', () => {
    it.each([
      ['listen: 192.168.0.1:4222', { host: '192.168.0.1', port: 4222 }, { host: '192.168.0.1', port: 4222 }],
      ['host: 192.168.0.1\nport: 4222', { host: '192.168.0.1', port: 4222 }, { host: '192.168.0.1', port: 4222 }],
      ["listen: 192.168.0.1:4222\nhost: my-host\nport: '4333'", { host: '192.168.0.1', port: 4222 }, { host: 'my-host', port: 4333 }],
      ['', { host: '0.0.0.0', port: 9292 }, { host: 'localhost', port: 9292 }],
      ['port: 0', { host: '0.0.0.0', port: 0 }, { host: 'localhost', port: 0 }],
      ['listen: "[::1]:4222"', { host: '::1', port: 4222 }, { host: '::1', port: 4222 }],
      ['listen: 4222', { host: '0.0.0.0', port: 9292 }, { host: 'localhost', port: 9292 }],
      ["listen: ':4222'\nport: 5000", { host: '0.0.0.0', port: 5000 }, { host: 'localhost', port: 5000 }],
    ])('%j → bind %j, advertise %j', (file, listen, advertise) => {
      const c = yaml(file);
      expect(c.listen).toEqual(listen);
      expect(c.advertise).toEqual(advertise);
    });

    it.each(['192.168.0.1:4222x', '192.168.0.1', '192.168.0.1:70000', 'a:b:c'])('rejects listen %j', (listen) => {
      expect(yamlErrors(`listen: '${listen}'\n`)).toEqual([
        `Invalid value for "listen": ${JSON.stringify(listen)} (expected host:port with a port between 0 and 65535)`,
      ]);
    });
  });

  describe('precedence: defaults < file < environment < flags', () => {
    it('lets each source override the ones before it, key by key', () => {
      const file = 'logging.level: warn\nport: 1111\nclustering.namespace: from-file\n';
      const env = { LIFTBRIDGE_PORT: '2222', LIFTBRIDGE_CLUSTERING_NAMESPACE: 'from-env' };
      const c = configOf({ file, env, flags: { port: '3333' } });
      expect(c.logging.level).toBe('warn');
      expect(c.clustering.namespace).toBe('from-env');
      expect(c.advertise.port).toBe(3333);
    });

    it('consults the environment without a config file, for every key (Go quirk 10)', () => {
      const env = {
        LIFTBRIDGE_LOGGING_LEVEL: 'debug',
        LIFTBRIDGE_STREAMS_SEGMENT_MAX_BYTES: '2048',
        LIFTBRIDGE_STREAMS_RETENTION_MAX_AGE: '1h',
        LIFTBRIDGE_NATS_SERVERS: 'nats://a:4222, nats://b:4222',
        LIFTBRIDGE_CLUSTERING_RAFT_BOOTSTRAP_SEED: 'true',
        LIFTBRIDGE_CLUSTERING_RAFT_BOOTSTRAP_PEERS: '',
        LIFTBRIDGE_TLS_CLIENT_AUTHZ_ENABLED: 'false',
        LIFTBRIDGE_SOMETHING_ELSE: 'ignored',
      };
      const c = configOf({ env });
      expect(c.logging.level).toBe('debug');
      expect(c.streams.segmentMaxBytes).toBe(2048);
      expect(c.streams.segmentMaxAgeMs).toBe(3_600_000);
      expect(c.nats.servers).toEqual(['nats://a:4222', 'nats://b:4222']);
      expect(c.nats.embedded).toBe(false);
      expect(c.clustering.raftBootstrapSeed).toBe(true);
      expect(c.clustering.raftBootstrapPeers).toEqual([]);
    });

    it('names the variable when an environment value is wrong', () => {
      const r = resolve({ env: { LIFTBRIDGE_BATCH_MAX_MESSAGES: 'lots' } });
      expect(!r.ok && r.error).toEqual([
        {
          key: 'batch.max.messages',
          message: 'Invalid value for "batch.max.messages": "lots" (expected a positive integer)',
          source: 'environment LIFTBRIDGE_BATCH_MAX_MESSAGES',
        },
      ]);
    });

    it('maps every key to one variable name', () => {
      const layer = environmentLayer({ LIFTBRIDGE_NATS_EMBEDDED: 'true', LIFTBRIDGE_NATS_EMBEDDED_CONFIG: 'n.conf' });
      expect([...layer.keys()]).toEqual(['nats.embedded', 'nats.embedded.config']);
    });
  });

  describe('values', () => {
    it('reads Go durations and bare integers as nanoseconds', () => {
      const c = yaml('streams.retention.max.age: 1h2m3.5s\nstreams.cleaner.interval: 1000000000\nbatch.max.time: 500ms\n');
      expect(c.streams.retentionMaxAgeMs).toBe(3_723_500);
      expect(c.streams.cleanerIntervalMs).toBe(1000);
      expect(c.batch.maxTimeMs).toBe(500);
    });

    it('accepts quoted numbers and booleans, and enum values in any case', () => {
      const c = yaml("port: '5050'\nlogging.raft: 'true'\nlogging.level: DEBUG\nstreams.sync.policy: Interval\n");
      expect(c.advertise.port).toBe(5050);
      expect(c.logging.raft).toBe(true);
      expect(c.logging.level).toBe('debug');
      expect(c.streams.syncPolicy).toBe('interval');
    });

    it('resolves 0 to the library defaults for compaction workers and the snapshot threshold', () => {
      const c = yaml('streams.compact.max.goroutines: 0\nclustering.raft.snapshot.threshold: 0\n');
      expect(c.streams.compactMaxGoroutines).toBe(10);
      expect(c.clustering.raftSnapshotThreshold).toBe(8192);
    });

    it('takes an empty server id as "generate one"', () => {
      expect(yaml("clustering.server.id: ''\n").clustering.serverId).toBeNull();
    });
  });

  describe('post-processing', () => {
    it.each([
      ['streams.retention.max.age: 2h', 7_200_000],
      ['streams.retention.max.age: 2h\nstreams.segment.max.age: 0', 7_200_000],
      ['streams.segment.max.age: 500ms', 1000],
      ['streams.segment.max.age: 1ns', 1000],
      ['streams.segment.max.age: 5s', 5000],
      ['streams.retention.max.age: 0', 0],
    ])('%j → segment max age %d ms', (file, ms) => {
      expect(yaml(file).streams.segmentMaxAgeMs).toBe(ms);
    });

    it('derives the data directory from the namespace when data.dir is empty', () => {
      expect(yaml("data.dir: ''\nclustering.namespace: prod\n").dataDir).toBe('/tmp/liftbridge/prod');
      expect(configOf({ flags: { 'clustering.namespace': 'x' } }).dataDir).toBe('/tmp/liftbridge/x');
    });
  });

  describe('embedded NATS', () => {
    it('runs embedded when no NATS server is configured anywhere', () => {
      expect(configOf({}).nats).toEqual({ servers: ['nats://127.0.0.1:4222'], embedded: true, embeddedPort: 4222, connectTimeoutMs: 0, pingIntervalMs: 2000, pingMaxOutstanding: 3 });
      expect(yaml('nats.embedded.port: 4333').nats.servers).toEqual(['nats://127.0.0.1:4333']);
    });

    it('connects to configured servers without an embedded server', () => {
      for (const inputs of [
        { file: 'nats.servers: [nats://n1:4222]' },
        { env: { LIFTBRIDGE_NATS_SERVERS: 'nats://n1:4222' } },
        { flags: { 'nats.servers': ['nats://n1:4222'] } },
      ]) {
        expect(configOf(inputs).nats).toEqual({ servers: ['nats://n1:4222'], embedded: false, embeddedPort: 4222, connectTimeoutMs: 0, pingIntervalMs: 2000, pingMaxOutstanding: 3 });
      }
    });

    it('honours an explicit boolean (Go quirk 2)', () => {
      expect(yaml('nats.embedded: false').nats).toMatchObject({ embedded: false, servers: ['nats://127.0.0.1:4222'] });
      expect(yaml('nats.embedded: true\nnats.servers: [nats://n1:4222]').nats).toMatchObject({
        embedded: true,
        servers: ['nats://n1:4222'],
      });
    });

    it('runs embedded when an embedded config file is given, even with servers', () => {
      expect(yaml('nats.embedded.config: n.conf\nnats.servers: [nats://n1:4222]').nats).toMatchObject({
        embedded: true,
        embeddedConfig: 'n.conf',
        servers: ['nats://n1:4222'],
      });
      expect(yamlErrors('nats.embedded: false\nnats.embedded.config: n.conf')).toEqual([
        '"nats.embedded" is false but "nats.embedded.config" is set',
      ]);
    });

    it('finds the binary in nats.embedded.binary, else LIFTBRIDGE_NATS_SERVER_BIN, else leaves it to a PATH search', () => {
      expect(configOf({ env: { LIFTBRIDGE_NATS_SERVER_BIN: '/opt/nats-server' } }).nats.embeddedBinary).toBe('/opt/nats-server');
      expect(
        configOf({ file: 'nats.embedded.binary: /usr/bin/nats-server', env: { LIFTBRIDGE_NATS_SERVER_BIN: '/opt/x' } }).nats
          .embeddedBinary,
      ).toBe('/usr/bin/nats-server');
      expect(configOf({}).nats.embeddedBinary).toBeUndefined();
    });
  });

  describe('the pre-1.0 brace format', () => {
    it('loads the seed README example exactly as it stands', () => {
      const c = configOf({ file: fixture('seed-readme.conf'), fileName: 'liftbridge.conf' });
      expect(c.listen).toEqual({ host: 'localhost', port: 9293 });
      expect(c.advertise).toEqual({ host: 'localhost', port: 9293 });
      expect(c.dataDir).toBe('/tmp/liftbridge/server-2');
      expect(c.logging.level).toBe('debug');
      expect(c.logging.raft).toBe(true);
      expect(c.nats.servers).toEqual(['nats://localhost:4300', 'nats://localhost:4301']);
      expect(c.nats.embedded).toBe(false);
      expect(c.streams.segmentMaxBytes).toBe(1_000_000);
      expect(c.streams.retentionMaxBytes).toBe(100_000_000_000);
      expect(c.clustering.serverId).toBe('server-2');
      expect(c.clustering.raftBootstrapSeed).toBe(true);
      expect(c.clustering.replicaMaxLagTimeMs).toBe(20_000);
    });

    it('loads a file with every renamed key', () => {
      const c = configOf({ file: fixture('legacy-full.conf'), fileName: 'liftbridge.conf' });
      expect(c.advertise).toEqual({ host: '0.0.0.0', port: 5050 });
      expect(c.logging).toMatchObject({ level: 'debug', recovery: true, raft: true });
      expect(c.batch).toEqual({ maxMessages: 10, maxTimeMs: 1000 });
      expect(c.metadataCacheMaxAgeMs).toBe(60_000);
      expect(c.streams).toMatchObject({
        retentionMaxBytes: 1024,
        retentionMaxMessages: 100,
        retentionMaxAgeMs: 3_600_000,
        cleanerIntervalMs: 60_000,
        segmentMaxBytes: 64,
        segmentMaxAgeMs: 60_000,
        compactEnabled: true,
        compactMaxGoroutines: 2,
      });
      expect(c.clustering).toMatchObject({
        serverId: 'foo',
        namespace: 'bar',
        raftSnapshotRetain: 10,
        raftSnapshotThreshold: 100,
        raftCacheSize: 5,
        raftBootstrapPeers: ['a', 'b'],
        replicaMaxLagTimeMs: 60_000,
        replicaMaxLeaderTimeoutMs: 30_000,
        replicaMaxIdleWaitMs: 2000,
        replicaFetchTimeoutMs: 3000,
        minInsyncReplicas: 1,
      });
      expect(c.nats).toMatchObject({
        servers: ['nats://localhost:4222', 'nats://localhost:4223'],
        user: 'admin',
        password: 'p@ss\tword',
        embedded: false,
      });
    });

    it('applies environment and flags on top of a brace file', () => {
      const c = configOf({ file: fixture('seed-readme.conf'), env: { LIFTBRIDGE_LOGGING_LEVEL: 'warn' }, flags: { port: '7000' } });
      expect(c.logging.level).toBe('warn');
      expect(c.advertise).toEqual({ host: 'localhost', port: 9293 }); // listen has a host: it wins for both
      expect(c.listen.port).toBe(9293);
    });
  });

});
