/**
 * Running out of file descriptors, as an operator meets it: more partitions than the process has descriptors
 * for. Each partition used to hold two descriptors, so a server under `ulimit -n 1024` ran out
 * (EMFILE) a few hundred partitions into a stream: CreateStream still answered OK and publishes
 * to the broken partitions timed out; a restart failed the same way. Partition logs now open their
 * files on demand within a budget (half the limit here), so the server creates, serves and
 * restarts 1,500 partitions under that limit, and publishes to the last one are acknowledged.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { ApiClient, call, connectClient } from '../../support/api-calls';
import { BrokerProcess } from '../../support/broker-process';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';

const DESCRIPTORS_MAX = 1024;
const PARTITIONS = 1500;

/** Descriptors of process `pid` on files under `dir`. */
function descriptorsUnder(pid: number, dir: string): number {
  let count = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(`${dir}/`)) count++;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}

describe(`a server under ulimit -n ${DESCRIPTORS_MAX}`, () => {
  let nats: TestNatsServer;
  let dataDir: string;
  const processes: BrokerProcess[] = [];

  beforeAll(async () => {
    nats = await TestNatsServer.start();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-many-'));
  });

  afterAll(async () => {
    for (const p of processes) await p.kill();
    await nats?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it(`creates, serves and restarts ${PARTITIONS} partitions, within its descriptor budget`, async () => {
    const port = await freePort();
    const httpPort = await freePort();
    const args = ['--data-dir', dataDir, '--port', String(port), '--nats-servers', nats.url, '--raft-bootstrap-seed', '--id', 'a', '--namespace', `ns${port}`];
    const env = { ...process.env, LIFTBRIDGE_HTTP_PORT: String(httpPort) };
    const start = async (): Promise<BrokerProcess> => {
      const server = await BrokerProcess.start(args, port, env, { descriptorsMax: DESCRIPTORS_MAX });
      processes.push(server);
      return server;
    };
    const readyz = async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status;
    const publishToLast = (client: ApiClient, value: string) =>
      call(client.publish, client, { stream: 'many', partition: PARTITIONS - 1, value: Buffer.from(value), ackPolicy: api.AckPolicy.LEADER }, 5000);

    let server = await start();
    let client = connectClient(server.address);
    try {
      await call(client.createStream, client, { name: 'many', subject: 'many', partitions: PARTITIONS }, 60_000);
      expect((await publishToLast(client, 'first')).ack?.ackError).toBe(api.AckError.OK);
      await waitFor(async () => (await readyz()) === 200, 5000, 'readiness');
      // Half the limit is the partition logs' budget.
      expect(descriptorsUnder(server.pid, path.join(dataDir, 'streams'))).toBeLessThanOrEqual(DESCRIPTORS_MAX / 2);
    } finally {
      client.close();
    }
    expect((await server.stop()).code).toBe(0);

    server = await start();
    client = connectClient(server.address);
    try {
      expect((await publishToLast(client, 'second')).ack?.ackError).toBe(api.AckError.OK);
      await waitFor(async () => (await readyz()) === 200, 5000, 'readiness after the restart');
      expect(descriptorsUnder(server.pid, path.join(dataDir, 'streams'))).toBeLessThanOrEqual(DESCRIPTORS_MAX / 2);
      expect(server.logs).not.toContain('EMFILE');
    } finally {
      client.close();
    }
    expect((await server.stop()).code).toBe(0);
  });
});
