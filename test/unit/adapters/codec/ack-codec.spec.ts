import { decodeAck, decodeAckEnvelope, encodeAck, encodeAckEnvelope } from '../../../../src/adapters/codec/ack-codec';
import { AckError, AckPolicy, apiProtoRoot } from '../../../../src/adapters/codec/api-proto';
import { ProtobufDecodeError, ProtobufEncodeError } from '../../../../src/adapters/codec/codec-errors';
import { EnvelopeError, MsgType, wrapEnvelope } from '../../../../src/adapters/codec/envelope';

const NS = 1700000000123456789n;
const NS_VARINT = '959a97ece39fe7cb17';

const fullAck = {
  stream: 'foo', partitionSubject: 'foo', msgSubject: 'foo.1', offset: 5n, ackInbox: 'inbox',
  correlationId: 'c1', ackPolicy: AckPolicy.ALL, receptionTimestamp: NS, commitTimestamp: NS + 1n,
  ackError: AckError.INCORRECT_OFFSET,
};

const AckType = () => apiProtoRoot().lookupType('proto.Ack');

describe('Ack codec (spec §1.4 Ack table, §3.3)', () => {
  it('encodes golden bytes in field order with defaults omitted', () => {
    expect(encodeAck(fullAck).toString('hex')).toBe([
      '0a03666f6f', // 1 stream
      '1203666f6f', // 2 partitionSubject
      '1a05666f6f2e31', // 3 msgSubject
      '2005', // 4 offset
      '2a05696e626f78', // 5 ackInbox
      '32026331', // 6 correlationId
      '3801', // 7 ackPolicy ALL
      `40${NS_VARINT}`, // 8 receptionTimestamp
      '48969a97ece39fe7cb17', // 9 commitTimestamp
      '5002', // 10 ackError INCORRECT_OFFSET
    ].join(''));
    expect(encodeAck({})).toHaveLength(0);
    expect(encodeAck({ offset: 0, ackPolicy: AckPolicy.LEADER, ackError: AckError.OK, stream: '' })).toHaveLength(0);
  });

  it('matches the bytes protobufjs produces for the same ack', () => {
    const oracle = Buffer.from(AckType().encode(AckType().fromObject({
      ...fullAck, offset: '5', receptionTimestamp: NS.toString(), commitTimestamp: (NS + 1n).toString(),
    })).finish());
    expect(encodeAck(fullAck)).toEqual(oracle);
  });

  it('wraps the ack in a MsgType-1 envelope in one buffer', () => {
    const envelope = encodeAckEnvelope(fullAck);
    expect(envelope.subarray(0, 8).toString('hex')).toBe('b90e43b400080001');
    expect(envelope.subarray(8)).toEqual(encodeAck(fullAck));
    expect(decodeAckEnvelope(envelope)).toEqual(fullAck);
  });

  it('accepts numbers or bigints and keeps negative and > 2^53 values', () => {
    expect(decodeAck(encodeAck({ offset: -1 })).offset).toBe(-1n);
    expect(decodeAck(encodeAck({ offset: -1n, commitTimestamp: 2n ** 63n - 1n })).commitTimestamp).toBe(2n ** 63n - 1n);
    expect(decodeAck(encodeAck({ receptionTimestamp: NS })).receptionTimestamp).toBe(NS);
    expect(decodeAck(encodeAck({ ackError: AckError.TOO_LARGE, stream: 'ß' }))).toMatchObject({ ackError: AckError.TOO_LARGE, stream: 'ß' });
  });

  it('refuses values that are not int64/int32', () => {
    expect(() => encodeAck({ offset: 2 ** 53 })).toThrow(ProtobufEncodeError);
    expect(() => encodeAck({ offset: 2n ** 63n })).toThrow(ProtobufEncodeError);
    expect(() => encodeAck({ ackPolicy: 0.5 })).toThrow(ProtobufEncodeError);
    expect(() => encodeAck({ stream: 3 as unknown as string })).toThrow(ProtobufEncodeError);
  });

  it('decodeAckEnvelope rejects other envelopes and bad payloads', () => {
    expect(() => decodeAckEnvelope(wrapEnvelope(MsgType.Publish, encodeAck(fullAck)))).toThrow(EnvelopeError);
    expect(() => decodeAckEnvelope(Buffer.from('plain'))).toThrow(EnvelopeError);
    expect(() => decodeAckEnvelope(wrapEnvelope(MsgType.Ack, Buffer.from([0x0a, 0x09, 0x41])))).toThrow(ProtobufDecodeError);
  });
});
