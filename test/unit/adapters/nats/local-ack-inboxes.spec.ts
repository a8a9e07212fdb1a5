import { AckBatch, AckMessage, AckPolicy, InboundMessage } from '../../../../src/application/ports/message-transport.port';
import { LocalAckInboxes } from '../../../../src/adapters/outbound/nats/local-ack-inboxes';

const message = (ackInbox: string, ackPolicy = AckPolicy.LEADER, correlationId = ''): InboundMessage => ({
  key: null,
  value: Buffer.from('v'),
  headers: null,
  subject: 'orders',
  reply: '',
  ackInbox,
  correlationId,
  ackPolicy,
  expectedOffset: -1,
  entryBytes: 40,
});

const batch = (messages: InboundMessage[], onlyPolicy?: AckPolicy): AckBatch => ({
  stream: 'orders',
  partitionSubject: 'orders',
  firstOffset: 10,
  receptionTimestampNs: 5n,
  commitTimestampNs: 6n,
  messages,
  ...(onlyPolicy === undefined ? {} : { onlyPolicy }),
});

describe("LocalAckInboxes: acks for this server's own Publish calls skip NATS", () => {
  it('with no call waiting, the batch goes to NATS untouched', () => {
    const inboxes = new LocalAckInboxes('ns.ack.t1');
    const b = batch([message('client.inbox')]);
    expect(inboxes.deliverFrom(b)).toBe(b);
  });

  it('delivers the acks of its own inboxes with their offsets, and blanks them in what goes to NATS', () => {
    const inboxes = new LocalAckInboxes('ns.ack.t1');
    const first = inboxes.open();
    const second = inboxes.open();
    const got: AckMessage[] = [];
    first.acks.subscribe((a) => got.push(a));
    second.acks.subscribe((a) => got.push(a));
    const rest = inboxes.deliverFrom(batch([message(first.subject, AckPolicy.LEADER, 'c1'), message('client.inbox'), message(''), message(second.subject, AckPolicy.ALL)]));
    expect(got.map((a) => [a.ackInbox, a.offset, a.correlationId, a.ackPolicy, a.commitTimestampNs])).toEqual([
      [first.subject, 10, 'c1', AckPolicy.LEADER, 6n],
      [second.subject, 13, '', AckPolicy.ALL, 6n],
    ]);
    expect(rest?.messages.map((m) => m.ackInbox)).toEqual(['', 'client.inbox', '', '']);
  });

  it('returns null when every ack was local; NONE and other policies than the one acked now are left alone', () => {
    const inboxes = new LocalAckInboxes('ns.ack.t1');
    const inbox = inboxes.open();
    const got: AckMessage[] = [];
    inbox.acks.subscribe((a) => got.push(a));
    expect(inboxes.deliverFrom(batch([message(inbox.subject)]))).toBeNull();
    const b = batch([message(inbox.subject, AckPolicy.ALL), message(inbox.subject, AckPolicy.NONE)], AckPolicy.LEADER);
    expect(inboxes.deliverFrom(b)).toBe(b);
    expect(got).toHaveLength(1);
  });

  it('a closed inbox is no longer ours: its acks go to NATS', () => {
    const inboxes = new LocalAckInboxes('ns.ack.t1');
    const inbox = inboxes.open();
    const other = inboxes.open();
    inbox.close();
    const b = batch([message(inbox.subject)]);
    expect(inboxes.deliverFrom(b)).toBe(b);
    expect(inboxes.get(other.subject)).toBeDefined();
  });
});
