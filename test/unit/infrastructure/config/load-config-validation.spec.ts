import { resolve, configOf, messagesOf, yaml, yamlErrors } from './config-inputs';

describe('resolving the broker configuration', () => {
  describe('validation (bad inputs, table C)', () => {
    it.each([
      ['streams.segment.max.bytes: abc', 'Invalid value for "streams.segment.max.bytes": "abc" (expected an integer between 1 and 2147483647)'],
      ['streams.segment.max.bytes: 1.5', 'Invalid value for "streams.segment.max.bytes": "1.5" (expected an integer between 1 and 2147483647)'],
      ['streams.retention.max.bytes: -1', 'Invalid value for "streams.retention.max.bytes": "-1" (expected a non-negative integer)'],
      ['streams.retention.max.messages: -5', 'Invalid value for "streams.retention.max.messages": "-5" (expected a non-negative integer)'],
      ['clustering.replication.max.bytes: 0', 'Invalid value for "clustering.replication.max.bytes": "0" (expected a positive integer)'],
      ['port: 70000', 'Invalid value for "port": "70000" (expected an integer between 0 and 65535)'],
      ['streams.retention.max.age: 15 parsecs', 'Invalid value for "streams.retention.max.age": "15 parsecs" (expected a duration such as 500ms, 1m30s or 168h)'],
      ['streams.retention.max.age: -1h', 'Invalid value for "streams.retention.max.age": "-1h" (expected a non-negative duration)'],
      ['streams.compact.enabled: maybe', 'Invalid value for "streams.compact.enabled": "maybe" (expected true or false)'],
      ['nats.servers: {a: 1}', 'Unknown configuration setting "nats.servers.a"'],
      ['port: [1, 2]', 'Invalid value for "port": ["1", "2"] (expected an integer between 0 and 65535)'],
      ['nats.servers: ["http://x:1"]', 'Invalid value for "nats.servers": "http://x:1" (expected a nats://, tls://, ws:// or wss:// URL)'],
      ['logging.format: xml', 'Invalid value for "logging.format": "xml" (expected one of json, pretty)'],
      ['streams.sync.policy: sometimes', 'Invalid value for "streams.sync.policy": "sometimes" (expected one of always, interval, never)'],
    ])('C2: %j', (file, message) => {
      expect(yamlErrors(file)).toEqual([message]);
    });

    it.each([
      'streams.cleaner.interval',
      'clustering.replica.max.lag.time',
      'clustering.replica.max.idle.wait',
      'clustering.replica.fetch.timeout',
      'clustering.replica.max.leader.timeout',
      'activity.stream.publish.timeout',
      'groups.consumer.timeout',
      'groups.coordinator.timeout',
      'streams.sync.interval',
    ])('C3: rejects a zero or negative %s (no busy loops)', (k) => {
      expect(yamlErrors(`${k}: 0`)).toContain(`Invalid value for "${k}": "0" (expected a duration greater than zero)`);
      expect(yamlErrors(`${k}: -1s`)).toContain(`Invalid value for "${k}": "-1s" (expected a duration greater than zero)`);
    });

    it('C4: requires replica.max.idle.wait to be below replica.max.lag.time', () => {
      expect(yamlErrors('clustering.replica.max.idle.wait: 15s')).toEqual([
        '"clustering.replica.max.idle.wait" (15s) must be less than "clustering.replica.max.lag.time" (15s), or idle followers leave the ISR',
      ]);
      expect(yaml('clustering.replica.max.idle.wait: 14s').clustering.replicaMaxIdleWaitMs).toBe(14_000);
    });

    it('C5: requires min.insync.replicas ≥ 1', () => {
      expect(yamlErrors('clustering.min.insync.replicas: 0')).toEqual([
        'Invalid value for "clustering.min.insync.replicas": "0" (expected a positive integer)',
      ]);
    });

    it.each(['a.b', 'a b', 'a*', 'a>', ' '])('C6: rejects server id and namespace %j', (bad) => {
      const expected = ' (expected a name without dots, spaces or wildcards)';
      expect(configOf({ flags: {} }).clustering.namespace).toBe('liftbridge-default');
      expect(messagesOf({ flags: { 'clustering.server.id': bad } })).toEqual([`Invalid value for "clustering.server.id": ${JSON.stringify(bad)}${expected}`]);
      expect(messagesOf({ flags: { 'clustering.namespace': bad } })).toEqual([`Invalid value for "clustering.namespace": ${JSON.stringify(bad)}${expected}`]);
    });

    it('C6: rejects an empty namespace and bad or repeated bootstrap peer ids', () => {
      expect(yamlErrors("clustering.namespace: ''")[0]).toContain('"clustering.namespace": ""');
      expect(yamlErrors('clustering.raft.bootstrap.peers: [a, b.c]')).toEqual([
        'Invalid value for "clustering.raft.bootstrap.peers": "b.c" (expected a server id without dots, spaces or wildcards)',
      ]);
      expect(yamlErrors('clustering.raft.bootstrap.peers: [a, b, a]')).toEqual([
        'Invalid value for "clustering.raft.bootstrap.peers": "a" is listed twice',
      ]);
    });

    it('rejects an invalid logging.level with Liftbridge\'s message', () => {
      expect(yamlErrors('logging.level: loud')).toEqual(['Invalid logging.level setting "loud"']);
    });

    it('rejects an unknown activity ack policy with Liftbridge\'s message', () => {
      expect(yamlErrors('activity.stream.publish.ack.policy: most')).toEqual(['Unknown activity stream publish ack policy "most"']);
    });

    it('takes one NATS identity: a password needs a user, credentials exclude both', () => {
      expect(yamlErrors('nats.password: p')).toEqual(['"nats.password" is set but "nats.user" is not']);
      expect(yamlErrors('nats.credentials: a.creds\nnats.user: u\nnats.password: p')).toEqual([
        '"nats.credentials" and "nats.user"/"nats.password" cannot both be set: NATS takes one identity per connection',
      ]);
      expect(configOf({ file: 'nats.credentials: a.creds' }).nats.credentials).toBe('a.creds');
    });

    it('C7: requires TLS key and certificate together', () => {
      expect(yamlErrors('tls.key: k.pem')).toEqual(['"tls.key" is set but "tls.cert" is not: TLS needs both']);
      expect(messagesOf({ flags: { 'tls.cert': 'c.pem' } })).toEqual(['"tls.cert" is set but "tls.key" is not: TLS needs both']);
      expect(yamlErrors('nats.tls.cert: c.pem')).toEqual(['"nats.tls.cert" is set but "nats.tls.key" is not: NATS client TLS needs both']);
      expect(yamlErrors('tls.client.auth.enabled: true')).toEqual([
        '"tls.client.auth.enabled" is true but TLS is off: set "tls.key" and "tls.cert"',
      ]);
    });

    it('C8: refuses authorization without client certificate authentication (fail closed)', () => {
      const tls = 'tls.key: k.pem\ntls.cert: c.pem\n';
      expect(yamlErrors(`${tls}tls.client.authz.enabled: true\ntls.client.authz.model: m.conf\ntls.client.authz.policy: p.csv`)).toEqual([
        '"tls.client.authz.enabled" is true but "tls.client.auth.enabled" is not: clients are identified by their certificates',
      ]);
      expect(yamlErrors(`${tls}tls.client.auth.enabled: true\ntls.client.authz.enabled: true`)).toEqual([
        '"tls.client.authz.enabled" is true but "tls.client.authz.model" and "tls.client.authz.policy" are not both set',
      ]);
      // docs/compatibility.md "Go quirks" #1: the authz flag is its own key, not tls.client.auth.enabled.
      expect(yaml(`${tls}tls.client.auth.enabled: true`).tls.clientAuthzEnabled).toBe(false);
    });

    it('refuses a client CA, model or policy that nothing would apply (Liftbridge ignores them)', () => {
      const tls = 'tls.key: k.pem\ntls.cert: c.pem\n';
      expect(yamlErrors(`${tls}tls.client.auth.ca: ca.pem`)).toEqual([
        '"tls.client.auth.ca" is set but "tls.client.auth.enabled" is not: client certificates would not be asked for',
      ]);
      expect(yamlErrors(`${tls}tls.client.auth.enabled: true\ntls.client.authz.model: m.conf\ntls.client.authz.policy: p.csv`)).toEqual([
        '"tls.client.authz.model" is set but "tls.client.authz.enabled" is not: the policy would not be applied',
        '"tls.client.authz.policy" is set but "tls.client.authz.enabled" is not: the policy would not be applied',
      ]);
      const all = `${tls}tls.client: {auth.enabled: true, auth.ca: ca.pem, authz: {enabled: true, model: m.conf, policy: p.csv}}`;
      expect(yaml(all).tls).toEqual({
        key: 'k.pem',
        cert: 'c.pem',
        clientAuthEnabled: true,
        clientAuthCa: 'ca.pem',
        clientAuthzEnabled: true,
        clientAuthzModel: 'm.conf',
        clientAuthzPolicy: 'p.csv',
      });
    });

    it('C11: refuses both bootstrap modes at once', () => {
      expect(messagesOf({ flags: { 'clustering.raft.bootstrap.seed': true, 'clustering.raft.bootstrap.peers': ['a', 'b'] } })).toEqual([
        '"clustering.raft.bootstrap.seed" and "clustering.raft.bootstrap.peers" cannot both be set: choose one way to bootstrap',
      ]);
    });

    it('requires a 16- or 32-byte LIFTBRIDGE_ENCRYPTION_KEY when encryption is on by default, without echoing it', () => {
      expect(yamlErrors('streams.encryption: true')).toEqual([
        '"streams.encryption" is true but LIFTBRIDGE_ENCRYPTION_KEY is not set (it must be 16 or 32 bytes)',
      ]);
      const short = messagesOf({ file: 'streams.encryption: true', env: { LIFTBRIDGE_ENCRYPTION_KEY: 'secret' } });
      expect(short).toEqual(['"streams.encryption" is true but LIFTBRIDGE_ENCRYPTION_KEY is 6 bytes long (it must be 16 or 32 bytes)']);
      expect(configOf({ file: 'streams.encryption: true', env: { LIFTBRIDGE_ENCRYPTION_KEY: '0123456789abcdef' } }).streams.encryption).toBe(true);
    });

    it('reports every problem at once, with its source, and applies nothing', () => {
      const r = resolve({ file: 'port: x\nbatch.max.messages: 0\n', env: { LIFTBRIDGE_LOGGING_LEVEL: 'chatty' } });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error).toEqual([
        { key: 'port', message: 'Invalid value for "port": "x" (expected an integer between 0 and 65535)', source: 'liftbridge.yaml line 1' },
        { key: 'batch.max.messages', message: 'Invalid value for "batch.max.messages": "0" (expected a positive integer)', source: 'liftbridge.yaml line 2' },
        { key: 'logging.level', message: 'Invalid logging.level setting "chatty"', source: 'environment LIFTBRIDGE_LOGGING_LEVEL' },
      ]);
    });
  });
});
