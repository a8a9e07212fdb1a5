import { encodeAckBatch } from '../../../../src/adapters/codec/ack-batch-codec';
import { encodeAckEnvelope } from '../../../../src/adapters/codec/ack-codec';

const message = (subject: string, ackInbox: string, correlationId: string, ackPolicy = 0) => ({ subject, ackInbox, correlationId, ackPolicy });

describe('encodeAckBatch', () => {
  it('produces, for every message that wants an ack, the same bytes as encodeAckEnvelope', () => {
    const batch = {
      stream: 'orders',
      partitionSubject: 'orders.in',
      firstOffset: 0,
      receptionTimestampNs: 1_700_000_000_123_456_789n,
      commitTimestampNs: 1_700_000_000_223_456_789n,
      messages: [
        message('orders.in', 'inbox.a', 'c0'),
        message('orders.in', 'inbox.a', 'c1', 1),
        message('orders.in', '', 'no inbox'),
        message('orders.in.x', 'inbox.b', 'ünïcödé', 0),
        message('orders.in', 'inbox.b', '', 2), // NONE: no ack
        message('orders.in', 'inbox.b', 'last', 0),
      ],
    };
    const emitted: [string, Buffer][] = [];
    encodeAckBatch(batch, (inbox, envelope) => emitted.push([inbox, Buffer.from(envelope)]));
    const expected = batch.messages
      .map((m, i) => ({ m, offset: batch.firstOffset + i }))
      .filter(({ m }) => m.ackInbox !== '' && m.ackPolicy !== 2)
      .map(({ m, offset }) => [
        m.ackInbox,
        encodeAckEnvelope({
          stream: batch.stream,
          partitionSubject: batch.partitionSubject,
          msgSubject: m.subject,
          offset,
          ackInbox: m.ackInbox,
          correlationId: m.correlationId,
          ackPolicy: m.ackPolicy,
          receptionTimestamp: batch.receptionTimestampNs,
          commitTimestamp: batch.commitTimestampNs,
        }),
      ]);
    expect(emitted).toEqual(expected);
  });

  it('emits nothing when no message wants an ack', () => {
    const emitted: string[] = [];
    encodeAckBatch(
      { stream: 's', partitionSubject: 's', firstOffset: 5, receptionTimestampNs: 1n, commitTimestampNs: 2n, messages: [message('s', '', 'x'), message('s', 'i', 'y', 2)] },
      (inbox) => emitted.push(inbox),
    );
    expect(emitted).toEqual([]);
  });
});
