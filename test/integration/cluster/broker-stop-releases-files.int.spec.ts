import * as fs from 'node:fs';
import { call, connectClient } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { openDescriptorsUnder } from '../../support/open-descriptors';
import { startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * A stopped broker holds no file of its data directory open: the Raft WAL, partition segments and
 * their write handles are closed, not left to the garbage collector (which closes a forgotten
 * FileHandle only when it runs, with a warning).
 */
let nats: TestNatsServer;

beforeAll(async () => {
  nats = await TestNatsServer.start();
});

afterAll(async () => {
  await nats?.stop();
});

it('releases every descriptor under its data directory when it stops', async () => {
  const server = await startTestBroker(testBrokerConfig(nats.url));
  const dataDir = fs.realpathSync(server.config.dataDir);
  const client = connectClient(server.address);
  try {
    await call(client.createStream, client, { name: 'files', subject: 'files', partitions: 2 });
    for (let i = 0; i < 20; i++) await call(client.publish, client, { stream: 'files', partition: i % 2, value: Buffer.from(`m${i}`), expectedOffset: -1n });
    expect(openDescriptorsUnder(dataDir).some((p) => p.endsWith('raft.wal'))).toBe(true); // the check sees open files
  } finally {
    client.close();
    await server.stop();
  }
  expect(openDescriptorsUnder(dataDir)).toEqual([]);
  fs.rmSync(server.config.dataDir, { recursive: true, force: true });
});
