import { encodeAckBatch, encodeAckBatchAsPublishes } from '../../../../src/adapters/codec/ack-batch-codec';
import { encodeAckEnvelope } from '../../../../src/protocol/ack-codec';

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

/** Splits NATS PUB commands (`PUB <subject> <size>\r\n<payload>\r\n`) strictly, as nats-server reads them. */
function parsePublishes(wire: Buffer): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  let at = 0;
  while (at < wire.length) {
    const lineEnd = wire.indexOf('\r\n', at);
    if (lineEnd < 0) throw new Error(`no CRLF after byte ${at}`);
    const match = /^PUB (\S+) (\d+)$/.exec(wire.toString('latin1', at, lineEnd));
    if (!match) throw new Error(`not a PUB line: ${JSON.stringify(wire.toString('latin1', at, lineEnd))}`);
    const size = Number(match[2]);
    const payloadStart = lineEnd + 2;
    if (wire.toString('latin1', payloadStart + size, payloadStart + size + 2) !== '\r\n') throw new Error('payload not followed by CRLF');
    out.push([Buffer.from(match[1]!, 'latin1').toString('utf8'), Buffer.from(wire.subarray(payloadStart, payloadStart + size))]);
    at = payloadStart + size + 2;
  }
  return out;
}

describe('encodeAckBatchAsPublishes', () => {
  const batch = (firstOffset: number, messages: ReturnType<typeof message>[], onlyPolicy?: number) => ({
    stream: 'orders',
    partitionSubject: 'orders.in',
    firstOffset,
    receptionTimestampNs: 1_700_000_000_123_456_789n,
    commitTimestampNs: 1_700_000_000_223_456_789n,
    messages,
    onlyPolicy,
  });

  it.each([
    ['mixed inboxes, policies and correlation ids', batch(0, [message('orders.in', 'inbox.a', 'c0'), message('orders.in', '', 'none'), message('orders.in.x', 'inbox.ü', 'ünïcödé', 1), message('orders.in', 'inbox.b', '', 2), message('orders.in', 'inbox.b', 'last')])],
    ['offsets across digit boundaries (envelope sizes 9 vs 10 …)', batch(2 ** 40, Array.from({ length: 300 }, (_, i) => message('s', 'i', 'x'.repeat(i % 40))))],
    ['only the ALL acks of a replicated batch', batch(7, [message('s', 'in.1', 'a', 0), message('s', 'in.1', 'b', 1), message('s', 'in.2', 'c', 1)], 1)],
  ])('writes one PUB per ack, each carrying encodeAckBatch\'s envelope: %s', (_name, input) => {
    const plain: [string, Buffer][] = [];
    encodeAckBatch(input, (inbox, envelope) => plain.push([inbox, Buffer.from(envelope)]));
    const publishes = encodeAckBatchAsPublishes(input)!;
    expect(parsePublishes(publishes.bytes)).toEqual(plain);
    expect(publishes.messages).toBe(plain.length);
    expect(publishes.payloadBytes).toBe(plain.reduce((sum, [, envelope]) => sum + envelope.length, 0));
  });

  it('returns null when no message wants an ack, and refuses an inbox that would break the protocol line', () => {
    expect(encodeAckBatchAsPublishes(batch(0, [message('s', '', 'x'), message('s', 'i', 'y', 2)]))).toBeNull();
    expect(() => encodeAckBatchAsPublishes(batch(0, [message('s', 'a\r\nPUB b 1', 'x')]))).toThrow(/not a NATS subject/);
  });
});
