import { ErrorCode, NatsConnection, NatsError } from 'nats';
import { DroppedMessageLog } from '../../../src/application/diagnostics/dropped-message-log';
import { AuthenticatedNatsConnection } from '../../../src/adapters/outbound/nats/authenticated-nats-connection';
import { MAC_BYTES, MessageAuthenticator } from '../../../src/adapters/outbound/nats/message-authenticator';
import { requestOrUnavailable, serveRequests } from '../../../src/adapters/outbound/nats/request-reply';
import { Subjects } from '../../../src/adapters/outbound/nats/subjects';
import { silentLogger } from '../../support/memory-broker';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';

const SECRET = Buffer.from('a cluster secret of at least 32 bytes', 'utf8');
const subjects = new Subjects('authns');

let natsServer: TestNatsServer;
let last: NatsConnection;

beforeAll(async () => {
  natsServer = await TestNatsServer.start();
});

afterAll(async () => {
  await natsServer?.stop();
});

async function raw(): Promise<NatsConnection> {
  last = await natsServer.connect();
  return last;
}

/** A signing connection and the drops it counted, by `kind/reason`. */
async function signed(secret: Uint8Array = SECRET): Promise<{ nc: AuthenticatedNatsConnection; dropped: string[] }> {
  const dropped: string[] = [];
  const drops = new DroppedMessageLog(silentLogger, { messageDropped: (kind, reason) => dropped.push(`${kind}/${reason}`) }, () => Date.now());
  return { nc: new AuthenticatedNatsConnection(await raw(), new MessageAuthenticator(secret), drops, (s) => subjects.kindOf(s)), dropped };
}

const text = (data: Uint8Array): string => Buffer.from(data).toString('utf8');

describe('AuthenticatedNatsConnection', () => {
  it('delivers signed messages without their tag, and drops unsigned, forged and replayed-elsewhere ones before the subscriber sees them', async () => {
    const a = await signed();
    const b = await signed();
    const attacker = await raw();
    const received: string[] = [];
    b.nc.subscribe(subjects.raftInbox('b'), { callback: (_e, m) => received.push(text(m.data)) });
    b.nc.subscribe(subjects.heartbeats(), { callback: (_e, m) => received.push(`beat ${text(m.data)}`) });
    await b.nc.flush();

    // A message captured on one subject and published again on another.
    const captured: Uint8Array[] = [];
    const spy = attacker.subscribe(subjects.heartbeats(), { callback: (_e, m) => captured.push(m.data) });
    await attacker.flush();
    a.nc.publish(subjects.heartbeats(), Buffer.from('alive'));
    await waitFor(() => captured.length === 1 && received.length === 1, 5000, 'the signed heartbeat');
    spy.unsubscribe();
    expect(captured[0]).toHaveLength('alive'.length + MAC_BYTES);

    attacker.publish(subjects.raftInbox('b'), captured[0]!);
    attacker.publish(subjects.raftInbox('b'), Buffer.from('x'));
    attacker.publish(subjects.raftInbox('b'), Buffer.alloc(100, 7));
    (await signed(Buffer.from('another secret, also 32 bytes or more', 'utf8'))).nc.publish(subjects.raftInbox('b'), Buffer.from('wrong key'));
    await attacker.flush();
    a.nc.publish(subjects.raftInbox('b'), Buffer.from('genuine'));
    await waitFor(() => received.length === 2, 5000, 'the genuine raft message');
    await waitFor(() => b.dropped.length === 4, 5000, 'four drops');
    expect(received).toEqual(['beat alive', 'genuine']);
    expect(b.dropped.sort()).toEqual(['raft/bad-signature', 'raft/bad-signature', 'raft/bad-signature', 'raft/unsigned']);
  });

  it('answers signed requests with signed replies; a forged reply neither resolves the request nor hides the real one', async () => {
    const server = await signed();
    const client = await signed();
    const attacker = await raw();
    // The attacker sees each request and races a forged answer to its inbox.
    const racer = attacker.subscribe(subjects.metadataPropagate(), { callback: (_e, m) => m.reply && attacker.publish(m.reply, Buffer.from('forged answer')) });
    await attacker.flush();
    await serveRequests(server.nc, subjects.metadataPropagate(), async (data) => {
      await new Promise((resolve) => setTimeout(resolve, 50)); // the forged answer arrives first
      return Buffer.from(`answer to ${text(data)}`);
    }, { replyFailed: () => undefined, handlerFailed: () => undefined });
    const reply = await requestOrUnavailable(client.nc, subjects.metadataPropagate(), Buffer.from('q1'), 2000, (r) => new Error(r));
    expect(text(reply.data)).toBe('answer to q1');
    expect(client.dropped).toEqual(['reply/unsigned']);
    // A request from a connection without the secret is dropped, never answered.
    racer.unsubscribe();
    await attacker.flush();
    const outsider = await raw();
    await expect(outsider.request(subjects.metadataPropagate(), Buffer.from('q2'), { timeout: 300 })).rejects.toMatchObject({ code: ErrorCode.Timeout });
    expect(server.dropped).toEqual(['forwarded-command/unsigned']);
  });

  it('reports no responders and timeouts as nats.js does, and leaves room for the tag in max_payload', async () => {
    const { nc } = await signed();
    const noResponders = await nc.request(subjects.metadataJoin(), Buffer.from('x'), { timeout: 2000 }).catch((e: unknown) => e);
    expect(noResponders).toBeInstanceOf(NatsError);
    expect((noResponders as NatsError).code).toBe(ErrorCode.NoResponders);
    const silent = await raw();
    silent.subscribe(subjects.metadataJoin(), { callback: () => undefined });
    await silent.flush();
    await expect(nc.request(subjects.metadataJoin(), Buffer.from('x'), { timeout: 200 })).rejects.toMatchObject({ code: ErrorCode.Timeout });
    expect(nc.info!.max_payload).toBe(last.info!.max_payload - MAC_BYTES);
  });
});
