import { Container } from 'inversify';
import { AckPolicy } from '../../../src/application/ports/message-transport.port';
import { PublishHandler, PublishRequestData } from '../../../src/application/use-cases/publish';
import { StreamAdminHandler } from '../../../src/application/use-cases/stream-admin';
import { freshAdapters, startMemoryBroker, stopMemoryBroker } from '../../support/memory-broker';

/** What the publish use case refuses (sizes, internal subjects, ack inboxes) before anything reaches NATS. */
const NS = 'liftbridge-default';

describe('the publish use case', () => {
  let broker: Container;
  const data = (overrides: Partial<PublishRequestData> = {}): PublishRequestData => ({
    key: null, value: Buffer.from('v'), stream: 's', partition: 0, headers: null, ackInbox: '', correlationId: 'c', ackPolicy: AckPolicy.LEADER, expectedOffset: -1, ...overrides,
  });

  beforeAll(async () => {
    broker = await startMemoryBroker(freshAdapters());
    await broker.get(StreamAdminHandler).createStream({ name: 's', subject: 's', group: '', replicationFactor: 1, partitions: 1, config: {} });
  });
  afterAll(() => stopMemoryBroker(broker));

  it('refuses an ack inbox the leader would never answer on, at once instead of after a timeout', async () => {
    const publisher = broker.get(PublishHandler);
    expect(await publisher.publish(data({ ackInbox: `${NS}.raft.metadata.propagate` }), 1000)).toEqual({
      ok: false,
      error: { kind: 'InvalidRequest', reason: `invalid ackInbox "${NS}.raft.metadata.propagate": subjects under "${NS}." are reserved for the servers` },
    });
    expect(await publisher.publish(data({ ackInbox: 'acks.*' }), 1000)).toMatchObject({ ok: false, error: { reason: 'invalid ackInbox "acks.*": wildcards are not allowed' } });
    const toSubject = await publisher.publishToSubject({ ...data({ ackInbox: 'acks.>' }), subject: 's' }, 1000);
    expect(toSubject).toMatchObject({ ok: false, error: { reason: 'invalid ackInbox "acks.>": wildcards are not allowed' } });
    expect(await publisher.publish(data({ ackInbox: 'my.acks' }), 1000)).toMatchObject({ ok: true, value: { offset: 0 } });
  });

  it('PublishToSubject refuses the servers\' subjects and subjects that were not valid UTF-8', async () => {
    const publisher = broker.get(PublishHandler);
    expect(await publisher.publishToSubject({ ...data(), subject: `${NS}.raft.metadata.propagate` }, 1000)).toMatchObject({
      ok: false,
      error: { kind: 'InvalidRequest', reason: `invalid subject "${NS}.raft.metadata.propagate": subjects under "${NS}." are reserved for the servers` },
    });
    expect(await publisher.publishToSubject({ ...data(), subject: 's.\ufffd' }, 1000)).toMatchObject({ ok: false, error: { reason: 'invalid subject "s.\ufffd": not valid UTF-8' } });
    expect(await publisher.publishToSubject({ ...data(), subject: 's' }, 1000)).toMatchObject({ ok: true, value: { stream: 's' } });
  });

  it('refuses before publishing a message whose stored entry would not fit a replication reply', async () => {
    const publisher = broker.get(PublishHandler);
    // Entry = 68 + subject "s" (1) + value; reply = 24 + entry <= replication.max.bytes (1 MiB).
    const limit = 1024 * 1024 - 24 - 69;
    expect(await publisher.publish(data({ value: Buffer.alloc(limit + 1) }), 1000)).toEqual({ ok: false, error: { kind: 'AckRejected', ackError: 3 } });
    expect(await publisher.publish(data({ value: Buffer.alloc(limit) }), 1000)).toMatchObject({ ok: true, value: { ackError: 0 } });
  });
});
