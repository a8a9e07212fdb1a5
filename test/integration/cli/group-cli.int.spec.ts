import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LiftbridgeClient } from '../../../src/client';
import { CliResult, runCli } from '../../support/admin-cli';
import { TestNatsServer } from '../../support/nats-server';
import { createTestCertificates, TestCertificates } from '../../support/test-certificates';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * `liftbridge group list|describe` of the real executable (compiled dist) against a broker with TLS,
 * client certificates and authorization (docs/consumers.md "Inspecting groups", docs/security.md
 * "Authorization"): Liftbridge's example policy, plus the GroupAdmin actions for `client1` on the
 * groups `billing` and `nope` only; `client2` has none.
 */

const root = path.resolve(__dirname, '../../..');
const AUTHZ = path.join(__dirname, '../../support/authz');
const GROUP_ADMIN_GRANTS = ['p, client1, *, ListConsumerGroups', 'p, client1, billing, DescribeConsumerGroup', 'p, client1, nope, DescribeConsumerGroup'];
/** Long enough that no member expires during the test (nobody fetches assignments to stay alive). */
const CONSUMER_TIMEOUT_MS = 10 * 60_000;

let nats: TestNatsServer;
let certs: TestCertificates;
let server: StartedTestBroker;
let client: LiftbridgeClient;

const tlsAs = (identity: 'client1' | 'client2'): string[] => ['--tls-ca', certs.caFile, '--tls-cert', certs[identity].certFile, '--tls-key', certs[identity].keyFile];
const cli = (args: readonly string[], identity: 'client1' | 'client2' = 'client1'): Promise<CliResult> => runCli([...args, '--servers', server.address, ...tlsAs(identity)]);

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/ensure.js'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  certs = createTestCertificates();
  const policyFile = path.join(certs.dir, 'policy.csv');
  fs.writeFileSync(policyFile, `${fs.readFileSync(path.join(AUTHZ, 'policy.csv'), 'utf8').trimEnd()}\n${GROUP_ADMIN_GRANTS.join('\n')}\n`);
  nats = await TestNatsServer.start();
  server = await startTestBroker(
    testBrokerConfig(nats.url, {
      tls: {
        key: certs.server.keyFile,
        cert: certs.server.certFile,
        clientAuthEnabled: true,
        clientAuthCa: certs.caFile,
        clientAuthzEnabled: true,
        clientAuthzModel: path.join(AUTHZ, 'model.conf'),
        clientAuthzPolicy: policyFile,
      },
      groups: { consumerTimeoutMs: CONSUMER_TIMEOUT_MS },
    }),
  );
  client = await LiftbridgeClient.connect({ servers: [server.address], tls: { ca: certs.ca, cert: certs.client1.cert, key: certs.client1.key } });
  await client.createStream('foo', 'foo.subject', { partitions: 3 });
  await client.joinConsumerGroup('billing', 'c1', ['foo']);
  await client.joinConsumerGroup('billing', 'c2', ['foo']);
}, 120_000);

afterAll(async () => {
  client?.close();
  await server?.destroy();
  await nats?.stop();
  certs?.remove();
});

/** The group's epoch as the server reports it in FetchMetadata (the metadata index of its latest change). */
async function billingEpoch(): Promise<string> {
  const metadata = await client.fetchGroupMetadata('billing');
  if (metadata === null) throw new Error('group billing is unknown');
  expect(metadata.coordinator).toBe('a');
  return metadata.epoch.toString();
}

describe('liftbridge group list|describe against a server', () => {
  it('lists the groups: one line each, or a JSON array', async () => {
    const epoch = await billingEpoch();
    const [text, json] = await Promise.all([cli(['group', 'list']), cli(['group', 'list', '--json'])]);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toMatch(new RegExp(`^GROUP +COORDINATOR +EPOCH +MEMBERS\nbilling +a +${epoch} +2\n$`));
    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toEqual([{ groupId: 'billing', coordinator: 'a', epoch, memberCount: 2 }]);
  });

  it('describes a group: its members in join order and the partitions the coordinator assigns them', async () => {
    const epoch = await billingEpoch();
    const [text, json] = await Promise.all([cli(['group', 'describe', 'billing']), cli(['group', 'describe', 'billing', '--json'])]);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toBe(
      [
        'group             billing',
        'coordinator       a',
        `epoch             ${epoch}`,
        'consumer timeout  10m',
        'members           2',
        '',
        'CONSUMER  STREAM  PARTITIONS',
        'c1        foo     0,2',
        'c2        foo     1',
        '',
      ].join('\n'),
    );
    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toEqual({
      groupId: 'billing',
      coordinator: 'a',
      epoch,
      consumerTimeoutMs: CONSUMER_TIMEOUT_MS,
      members: [
        { consumerId: 'c1', streams: ['foo'], assignments: [{ stream: 'foo', partitions: [0, 2] }] },
        { consumerId: 'c2', streams: ['foo'], assignments: [{ stream: 'foo', partitions: [1] }] },
      ],
    });
  });

  it('answers an unknown group with exit 1 and a message naming it', async () => {
    expect(await cli(['group', 'describe', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'liftbridge group describe: no such consumer group: nope\n' });
  });

  it('is refused what the policy does not grant (PERMISSION_DENIED), with exit 1', async () => {
    const [list, describe] = await Promise.all([cli(['group', 'list'], 'client2'), cli(['group', 'describe', 'other'])]);
    expect(list).toEqual({ code: 1, stdout: '', stderr: 'liftbridge group list: The client is not authorized to call ListConsumerGroups on resource *\n' });
    expect(describe).toEqual({ code: 1, stdout: '', stderr: 'liftbridge group describe: The client is not authorized to call DescribeConsumerGroup on resource other\n' });
  });

  it('needs TLS when the server has it', async () => {
    const plaintext = await runCli(['group', 'list', '--servers', server.address]);
    expect(plaintext.code).toBe(1);
    expect(plaintext.stdout).toBe('');
    expect(plaintext.stderr).toMatch(/^liftbridge group list: /);
  });
});
