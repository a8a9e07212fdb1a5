import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LiftbridgeClient } from '../../../src/client';
import { runCli } from '../../support/admin-cli';
import { BrokerProcess } from '../../support/broker-process';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';

/**
 * `liftbridge activity` (the built executable) against real single-server processes
 * (docs/cli.md "Activity stream"): one with LIFTBRIDGE_ACTIVITY_STREAM_ENABLED=true, whose
 * `__activity` holds its own creation and then each stream's; one without, where the command says
 * that the activity stream is off.
 */

let nats: TestNatsServer;
let dataDir: string;
let withActivity: BrokerProcess | undefined;
let withoutActivity: BrokerProcess | undefined;

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

async function startServer(name: string, env: NodeJS.ProcessEnv): Promise<BrokerProcess> {
  const port = await freePort();
  const args = ['--data-dir', path.join(dataDir, name), '--port', String(port), '--nats-servers', nats.url, '--raft-bootstrap-seed', '--id', 'a', '--namespace', `activity-cli-${name}`];
  return BrokerProcess.start(args, port, { ...process.env, ...env });
}

beforeAll(async () => {
  nats = await TestNatsServer.start();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-activity-cli-'));
  [withActivity, withoutActivity] = await Promise.all([
    startServer('on', { LIFTBRIDGE_ACTIVITY_STREAM_ENABLED: 'true' }),
    startServer('off', { LIFTBRIDGE_ACTIVITY_STREAM_ENABLED: 'false' }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([withActivity?.stop(), withoutActivity?.stop()]);
  await nats?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('liftbridge activity', () => {
  it('prints the creation of __activity, then of a stream created after it, in order', async () => {
    const server = withActivity!;
    // The controller creates __activity once it is in office, which may follow the server serving.
    const client = await LiftbridgeClient.connect({ servers: [server.address] });
    let activityCreatedNs = 0n;
    try {
      await waitFor(
        async () => {
          const stream = (await client.fetchMetadata(['__activity'])).streamMetadata.find((s) => s.name === '__activity' && s.partitions[0] !== undefined);
          activityCreatedNs = stream?.creationTimestamp ?? 0n;
          return stream !== undefined;
        },
        15_000,
        '__activity to exist',
      );
    } finally {
      client.close();
    }
    const created = await runCli(['stream', 'create', 'orders', '--subject', 'orders', '--partitions', '2', '--servers', server.address]);
    expect(created).toMatchObject({ code: 0, stderr: '' });

    const [json, text] = await Promise.all([
      runCli(['activity', '--json', '-n', '2', '--servers', server.address]),
      runCli(['activity', '--count', '2', '--servers', server.address]),
    ]);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const events = lines(json.stdout).map((l) => JSON.parse(l) as { id: string; offset: string; timestamp: string; op: string; stream: string; partitions: number[] });
    expect(events.map(({ offset, op, stream, partitions }) => ({ offset, op, stream, partitions }))).toEqual([
      { offset: '0', op: 'CREATE_STREAM', stream: '__activity', partitions: [0] },
      { offset: '1', op: 'CREATE_STREAM', stream: 'orders', partitions: [0, 1] },
    ]);
    expect(BigInt(events[0]!.id)).toBeLessThan(BigInt(events[1]!.id));
    // Published once its partition ran, not after a first publish was lost and waited out the
    // 5 s publish timeout and the 1 s back-off.
    expect(BigInt(events[0]!.timestamp) - activityCreatedNs).toBeLessThan(4_000_000_000n);

    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(lines(text.stdout)).toEqual([
      expect.stringMatching(new RegExp(`^${events[0]!.id}\\t\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\tCREATE_STREAM\\tstream=__activity partitions=0$`)),
      expect.stringMatching(new RegExp(`^${events[1]!.id}\\t\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\tCREATE_STREAM\\tstream=orders partitions=0,1$`)),
    ]);
  }, 40_000);

  it('says that the activity stream is off, with exit 1, on a server without it', async () => {
    const result = await runCli(['activity', '--servers', withoutActivity!.address]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'liftbridge activity: the activity stream is off on the servers (no __activity stream; see activity.stream.enabled)\n',
    });
  }, 20_000);
});
