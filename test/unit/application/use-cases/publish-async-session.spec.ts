import { InMemoryMessageTransport } from '../../../../src/adapters/outbound/memory/in-memory-message-transport';
import { ApplicationError } from '../../../../src/application/errors/application-errors';
import { MetadataService } from '../../../../src/application/metadata/metadata-service';
import { PartitionSupervisor } from '../../../../src/application/partitions/partition-supervisor';
import { AckError, AckPolicy, InboundMessage } from '../../../../src/application/ports/message-transport.port';
import { PublishHandler, PublishRequestData } from '../../../../src/application/use-cases/publish';
import { DRAIN_WAIT_MS, PublishAsyncResponse, PublishAsyncSession } from '../../../../src/application/use-cases/publish-async-session';
import { StreamAdminHandler } from '../../../../src/application/use-cases/stream-admin';
import { err, ok, Result } from '../../../../src/domain/shared/result';
import { MetadataCommand } from '../../../../src/domain/metadata/metadata-commands';
import { memorySettings } from '../../../support/memory-broker';
import { createStream, registerBroker, stateAfter } from '../../../support/metadata-mothers';
import { flushPromises, VirtualTime } from '../../../support/virtual-time';

/**
 * One PublishAsync stream (docs/protocol.md "PublishAsync") on virtual time: the real PublishHandler
 * and in-memory NATS, over a metadata state where stream "orders" has partition 0 live and
 * partition 1 paused. The test plays the partition leader: it sees what is published and sends acks.
 */

const given: MetadataCommand[] = [registerBroker('a'), createStream('orders', { subject: 'orders', partitions: 2 })];
const pausedOne: MetadataCommand = { type: 'PauseStream', data: { name: 'orders', partitions: [1], resumeAll: false, atNs: '1' } };
const resumedOne: MetadataCommand = { type: 'ResumeStream', data: { name: 'orders', partitions: [1], atNs: '2' } };
/** Small enough that a test can build a message the leader would refuse as too large. */
const REPLICATION_MAX_BYTES = 4096;

const request = (correlationId: string, overrides: Partial<PublishRequestData> = {}): PublishRequestData => ({
  key: null,
  value: Buffer.from(correlationId),
  stream: 'orders',
  partition: 0,
  headers: null,
  ackInbox: 'client.inbox',
  correlationId,
  ackPolicy: AckPolicy.LEADER,
  expectedOffset: -1,
  ...overrides,
});

/** A response as [kind, correlation id, ack error or error kind]: short enough to compare whole sequences. */
const summary = (r: PublishAsyncResponse): [string, string, AckError | string] =>
  r.kind === 'ack' ? ['ack', r.ack.correlationId, r.ack.ackError] : ['error', r.correlationId, r.error.kind];

interface PendingResume {
  readonly partitions: readonly number[];
  settle(outcome: Result<void, ApplicationError> | Error): void;
}

async function openSession() {
  const time = new VirtualTime();
  const transport = new InMemoryMessageTransport();
  const metadata = { state: stateAfter(...given, pausedOne) };
  const resumes: PendingResume[] = [];
  const admin = {
    resumeStream: (_name: string, partitions: readonly number[]) =>
      new Promise<Result<void, ApplicationError>>((resolve, reject) =>
        resumes.push({
          partitions,
          settle: (outcome) => {
            if (outcome instanceof Error) return reject(outcome);
            if (outcome.ok) metadata.state = stateAfter(...given, pausedOne, resumedOne);
            resolve(outcome);
          },
        }),
      ),
  };
  const publisher = new PublishHandler(
    metadata as unknown as MetadataService,
    admin as unknown as StreamAdminHandler,
    transport,
    time,
    memorySettings({ replicationMaxBytes: REPLICATION_MAX_BYTES }),
    { anyNotStarted: false } as unknown as PartitionSupervisor,
  );
  const published: InboundMessage[] = [];
  await transport.listen('orders', '', (m) => published.push(m));
  await transport.listen('orders.*', '', (m) => published.push(m));
  const responses: PublishAsyncResponse[] = [];
  const session = new PublishAsyncSession(publisher, transport, time, (r) => responses.push(r));
  await session.open();
  const find = (correlationId: string): InboundMessage => {
    const m = published.find((p) => p.correlationId === correlationId);
    if (!m) throw new Error(`${correlationId} was not published`);
    return m;
  };
  /** The leader's ack for a published message (docs/protocol.md "Ack"). */
  const ack = (correlationId: string, offset: number, ackError = AckError.OK): void => {
    const m = find(correlationId);
    transport.sendAck({
      stream: 'orders',
      partitionSubject: m.subject,
      msgSubject: m.subject,
      offset,
      ackInbox: m.ackInbox,
      correlationId,
      ackPolicy: m.ackPolicy,
      receptionTimestampNs: time.nowNs(),
      commitTimestampNs: ackError === AckError.OK ? time.nowNs() : 0n,
      ackError,
    });
  };
  /** Calls finish() and lets the test see whether it has resolved yet. */
  const finish = (waitMs?: number) => {
    const drain = { done: false };
    void session.finish(waitMs).then(() => void (drain.done = true));
    return drain;
  };
  /** Submits in this order and lets every delivery and promise job run. */
  const send = async (...requests: PublishRequestData[]): Promise<void> => {
    for (const r of requests) session.submit(r);
    await flushPromises();
  };
  return { time, session, published, responses, resumes, ack, finish, send, correlationIds: () => published.map((m) => m.correlationId) };
}

describe('PublishAsyncSession', () => {
  it('relays acks in the order they arrive, error acks as acks carrying their ackError and correlation id, and stays usable after an error', async () => {
    const s = await openSession();
    await s.send(request('a'), request('b'), request('c'));
    expect(s.correlationIds()).toEqual(['a', 'b', 'c']);

    s.ack('c', 2);
    s.ack('a', 0, AckError.INCORRECT_OFFSET);
    s.ack('b', 1);
    await flushPromises();
    expect(s.responses.map(summary)).toEqual([
      ['ack', 'c', AckError.OK],
      ['ack', 'a', AckError.INCORRECT_OFFSET],
      ['ack', 'b', AckError.OK],
    ]);
    expect(s.responses[0]).toMatchObject({ kind: 'ack', ack: { offset: 2, stream: 'orders' } });

    await s.send(request('d'));
    s.ack('d', 3);
    await flushPromises();
    expect(s.responses.map(summary).slice(3)).toEqual([['ack', 'd', AckError.OK]]);
  });

  it("publishes every request with the session's own ack inbox, not the one the client put in the request", async () => {
    const s = await openSession();
    await s.send(request('a'), request('b', { partition: 1 }));
    s.resumes[0]!.settle(ok(undefined));
    await flushPromises();
    const inboxes = s.published.map((m) => m.ackInbox);
    expect(inboxes).toHaveLength(2);
    expect(inboxes[0]).toMatch(/^liftbridge-default\.ack\.\d+$/);
    expect(inboxes[1]).toBe(inboxes[0]);
  });

  it('answers a message too large to replicate at once with a TOO_LARGE ack carrying its correlation id, without publishing it or waiting for it', async () => {
    const s = await openSession();
    s.session.submit(request('big', { value: Buffer.alloc(REPLICATION_MAX_BYTES) }));
    expect(s.responses).toEqual([
      { kind: 'ack', ack: expect.objectContaining({ correlationId: 'big', ackError: AckError.TOO_LARGE, offset: 0, stream: 'orders', commitTimestampNs: 0n }) },
    ]);
    await s.send(request('small'));
    expect(s.correlationIds()).toEqual(['small']);

    s.ack('small', 0);
    await flushPromises();
    const drain = s.finish();
    await flushPromises();
    expect(drain.done).toBe(true);
    expect(s.responses.map(summary)).toEqual([
      ['ack', 'big', AckError.TOO_LARGE],
      ['ack', 'small', AckError.OK],
    ]);
  });

  it("publishes in submission order: requests behind one awaiting a paused partition's resume go out after it, in order; then the fast path is back", async () => {
    const s = await openSession();
    s.session.submit(request('a'));
    s.session.submit(request('b', { partition: 1 }));
    s.session.submit(request('c'));
    s.session.submit(request('d', { partition: 1 }));
    await s.time.advance(10_000);
    expect(s.correlationIds()).toEqual(['a']);
    expect(s.resumes.map((r) => r.partitions)).toEqual([[1]]);

    s.resumes[0]!.settle(ok(undefined));
    await flushPromises();
    expect(s.correlationIds()).toEqual(['a', 'b', 'c', 'd']);
    expect(s.published.map((m) => m.subject)).toEqual(['orders', 'orders.1', 'orders', 'orders.1']);
    expect(s.resumes).toHaveLength(1);

    // The queue is empty again: the next request takes the synchronous path (answered before any promise job runs).
    s.session.submit(request('x', { stream: 'nope' }));
    expect(s.responses.map(summary)).toEqual([['error', 'x', 'NoSuchStream']]);
    await s.send(request('e'));
    expect(s.correlationIds()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('answers a refused request with an error carrying its correlation id and goes on with the next ones', async () => {
    const s = await openSession();
    await s.send(request('x', { stream: 'nope' }), request('y', { partition: 7 }), request('z'));
    expect(s.correlationIds()).toEqual(['z']);
    s.ack('z', 0);
    await flushPromises();
    expect(s.responses.map(summary)).toEqual([
      ['error', 'x', 'NoSuchStream'],
      ['error', 'y', 'NoSuchPartition'],
      ['ack', 'z', AckError.OK],
    ]);
  });

  it('answers a failed or thrown resume with an error for that request only; the requests queued behind it still go out in order', async () => {
    const s = await openSession();
    await s.send(request('p1', { partition: 1 }), request('a'), request('p2', { partition: 1 }), request('b'));
    s.resumes[0]!.settle(err({ kind: 'MetadataTimeout' } as ApplicationError));
    await flushPromises();
    expect(s.correlationIds()).toEqual(['a']);
    s.resumes[1]!.settle(new Error('resume exploded'));
    await flushPromises();
    expect(s.correlationIds()).toEqual(['a', 'b']);
    expect(s.responses).toEqual([
      { kind: 'error', correlationId: 'p1', error: { kind: 'ResumeFailed', reason: 'MetadataTimeout' } },
      { kind: 'error', correlationId: 'p2', error: { kind: 'InvalidRequest', reason: 'resume exploded' } },
    ]);
  });

  it('sends no ack for AckPolicy NONE and does not wait for one when draining', async () => {
    const s = await openSession();
    await s.send(request('n', { ackPolicy: AckPolicy.NONE }));
    expect(s.published.map((m) => [m.correlationId, m.ackPolicy])).toEqual([['n', AckPolicy.NONE]]);

    const drain = s.finish();
    await flushPromises();
    expect(drain.done).toBe(true);
    expect(s.time.elapsedMs).toBe(0);
    expect(s.responses).toEqual([]);
  });

  it('an error ack for an AckPolicy NONE request does not end the drain while another request still awaits its ack', async () => {
    const s = await openSession();
    await s.send(request('n', { ackPolicy: AckPolicy.NONE }), request('l'));
    const drain = s.finish();
    // Leaders send error acks whatever the policy (docs/protocol.md "Ack timing").
    s.ack('n', 0, AckError.UNKNOWN);
    await flushPromises();
    expect(drain.done).toBe(false);

    s.ack('l', 0);
    await flushPromises();
    expect(drain.done).toBe(true);
    expect(s.responses.map(summary)).toEqual([
      ['ack', 'n', AckError.UNKNOWN],
      ['ack', 'l', AckError.OK],
    ]);
  });

  it('the drain after half-close ends as soon as the last in-flight ack arrives, and closes the inbox', async () => {
    const s = await openSession();
    await s.send(request('a'), request('b'));
    const drain = s.finish();
    await s.time.advance(1000);
    s.ack('a', 0);
    await flushPromises();
    expect(drain.done).toBe(false);

    s.ack('b', 1);
    await flushPromises();
    expect(drain.done).toBe(true);
    expect(s.time.elapsedMs).toBe(1000);
    expect(s.time.pendingTimers).toBe(0);

    s.ack('b', 1);
    await flushPromises();
    expect(s.responses.map(summary)).toEqual([
      ['ack', 'a', AckError.OK],
      ['ack', 'b', AckError.OK],
    ]);
  });

  it('with acks missing, the drain ends after exactly DRAIN_WAIT_MS of virtual time, not earlier, and later acks are not relayed', async () => {
    const s = await openSession();
    await s.send(request('a'), request('b'));
    const drain = s.finish();
    await s.time.advance(1000);
    s.ack('a', 0);
    await s.time.advance(DRAIN_WAIT_MS - 1 - 1000);
    expect(drain.done).toBe(false);

    await s.time.advance(1);
    expect(drain.done).toBe(true);
    expect(s.time.elapsedMs).toBe(DRAIN_WAIT_MS);

    s.ack('b', 1);
    await flushPromises();
    expect(s.responses.map(summary)).toEqual([['ack', 'a', AckError.OK]]);
  });

  it('the shutdown drain waits the time it is given instead', async () => {
    const s = await openSession();
    await s.send(request('a'));
    const drain = s.finish(200);
    await s.time.advance(199);
    expect(drain.done).toBe(false);
    await s.time.advance(1);
    expect(drain.done).toBe(true);
  });

  it('the drain first lets the requests queued behind a resume go out, then waits for their acks', async () => {
    const s = await openSession();
    await s.send(request('b', { partition: 1 }));
    const drain = s.finish();
    await s.time.advance(DRAIN_WAIT_MS * 2);
    expect(drain.done).toBe(false);
    expect(s.correlationIds()).toEqual([]);

    s.resumes[0]!.settle(ok(undefined));
    await flushPromises();
    expect(s.correlationIds()).toEqual(['b']);
    expect(drain.done).toBe(false);
    s.ack('b', 0);
    await flushPromises();
    expect(drain.done).toBe(true);
    expect(s.responses.map(summary)).toEqual([['ack', 'b', AckError.OK]]);
  });

  it('close unsubscribes the ack inbox: an ack arriving after it is not relayed, and nothing more is published', async () => {
    const s = await openSession();
    await s.send(request('a'));
    s.session.close();
    s.ack('a', 0);
    await s.send(request('late'));
    expect(s.responses).toEqual([]);
    expect(s.correlationIds()).toEqual(['a']);
  });
});
