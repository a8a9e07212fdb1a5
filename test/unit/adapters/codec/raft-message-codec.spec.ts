import { CodecError } from '../../../../src/protocol/codec-errors';
import { MsgType, wrapEnvelope } from '../../../../src/protocol/envelope';
import { decodeRaftMessage, encodeRaftMessage, RAFT_MESSAGE_MSG_TYPE, RaftMessageDecodeError } from '../../../../src/adapters/codec/raft-message-codec';
import type { RaftMessage } from '../../../../src/domain/consensus/raft';

const env = { from: 'a', to: 'b', term: 7 };
const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs);

const variants: [string, RaftMessage][] = [
  [
    'AppendEntries with string, byte, empty, noop and conf-change entries',
    {
      ...env,
      type: 'AppendEntries',
      prevLogIndex: 41,
      prevLogTerm: 6,
      commit: 40,
      entries: [
        { index: 42, term: 7, type: 'normal', data: 'héllo ✓ "quoted" \u0000' },
        { index: 43, term: 7, type: 'normal', data: bytes(0, 1, 2, 253, 254, 255) },
        { index: 44, term: 7, type: 'normal', data: new Uint8Array(0) },
        { index: 45, term: 7, type: 'normal', data: '' },
        { index: 46, term: 7, type: 'noop', data: '' },
        { index: 47, term: 7, type: 'conf-change', data: JSON.stringify({ change: { type: 'AddVoter', nodeId: 'd' }, voters: ['a', 'b', 'c', 'd'] }) },
      ],
    },
  ],
  ['AppendEntries probe without entries', { ...env, type: 'AppendEntries', prevLogIndex: 0, prevLogTerm: 0, commit: 0, entries: [] }],
  ['AppendEntriesResult accepted', { ...env, type: 'AppendEntriesResult', reject: false, index: 47, rejectHintIndex: 0, rejectHintTerm: 0 }],
  ['AppendEntriesResult rejected', { ...env, type: 'AppendEntriesResult', reject: true, index: 41, rejectHintIndex: 30, rejectHintTerm: 5 }],
  ['RequestVote', { ...env, type: 'RequestVote', preVote: false, lastLogIndex: 12, lastLogTerm: 3 }],
  ['RequestVote (pre-vote)', { ...env, type: 'RequestVote', preVote: true, lastLogIndex: Number.MAX_SAFE_INTEGER, lastLogTerm: 3 }],
  ['RequestVote (leadership transfer)', { ...env, type: 'RequestVote', preVote: false, lastLogIndex: 12, lastLogTerm: 3, leadershipTransfer: true }],
  ['TimeoutNow', { ...env, type: 'TimeoutNow' }],
  ['RequestVoteResult', { ...env, type: 'RequestVoteResult', preVote: true, reject: false }],
  ['Heartbeat', { ...env, type: 'Heartbeat', commit: 9 }],
  ['HeartbeatResult', { ...env, type: 'HeartbeatResult' }],
  ['InstallSnapshot with byte data', { ...env, type: 'InstallSnapshot', snapshot: { index: 100, term: 6, voters: ['a', 'b', 'c'], data: bytes(9, 8, 7, 0) } }],
  ['InstallSnapshot with string data', { ...env, type: 'InstallSnapshot', snapshot: { index: 100, term: 6, voters: ['a'], data: '{"streams":[]}' } }],
];

describe('raft message codec', () => {
  it.each(variants)('round-trips %s exactly', (_name, message) => {
    const encoded = encodeRaftMessage(message);
    const decoded = decodeRaftMessage(encoded);
    expect(decoded).toEqual(message);
    // toEqual treats Buffer and Uint8Array alike; check the data types are exactly the originals.
    const dataOf = (m: RaftMessage): unknown[] =>
      m.type === 'AppendEntries' ? m.entries.map((e) => e.data) : m.type === 'InstallSnapshot' ? [m.snapshot.data] : [];
    dataOf(decoded).forEach((d, i) => {
      const original = dataOf(message)[i];
      expect(typeof d).toBe(typeof original);
      if (original instanceof Uint8Array) expect(Object.getPrototypeOf(d)).toBe(Uint8Array.prototype);
    });
  });

  it('decodes a copy of byte data, not a view into the received buffer', () => {
    const message: RaftMessage = { ...env, type: 'InstallSnapshot', snapshot: { index: 1, term: 1, voters: ['a'], data: bytes(1, 2, 3) } };
    const encoded = encodeRaftMessage(message);
    const decoded = decodeRaftMessage(encoded);
    encoded.fill(0);
    expect(decoded).toEqual(message);
  });

  it('encodes a byte view by its own bytes only', () => {
    const backing = bytes(9, 9, 1, 2, 3, 9);
    const message: RaftMessage = { ...env, type: 'AppendEntries', prevLogIndex: 0, prevLogTerm: 0, commit: 0, entries: [{ index: 1, term: 1, type: 'normal', data: backing.subarray(2, 5) }] };
    const decoded = decodeRaftMessage(encodeRaftMessage(message));
    expect(decoded.type === 'AppendEntries' && decoded.entries[0]!.data).toEqual(bytes(1, 2, 3));
  });

  it('wraps the payload in a CRC-protected envelope with our MsgType', () => {
    const encoded = encodeRaftMessage({ ...env, type: 'HeartbeatResult' });
    expect(RAFT_MESSAGE_MSG_TYPE).toBeGreaterThanOrEqual(100);
    expect([...encoded.subarray(0, 8)]).toEqual([0xb9, 0x0e, 0x43, 0xb4, 0, 12, 1, RAFT_MESSAGE_MSG_TYPE]);
  });

  const payload = (json: unknown): Buffer => wrapEnvelope(RAFT_MESSAGE_MSG_TYPE, Buffer.from(typeof json === 'string' ? json : JSON.stringify(json)), { crc: true });
  const good = JSON.parse(encodeRaftMessage(variants[0]![1]).subarray(12).toString('utf8')) as Record<string, unknown>;

  const garbage: [string, Uint8Array][] = [
    ['empty input', new Uint8Array(0)],
    ['random bytes', bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)],
    ['truncated envelope', encodeRaftMessage(variants[0]![1]).subarray(0, 10)],
    ['another MsgType', wrapEnvelope(MsgType.Publish, Buffer.from('{}'), { crc: true })],
    ['a flipped payload byte (CRC mismatch)', (() => { const b = Buffer.from(encodeRaftMessage(variants[0]![1])); b[20] ^= 0x01; return b; })()],
    ['non-JSON payload', payload('not json{')],
    ['invalid UTF-8', wrapEnvelope(RAFT_MESSAGE_MSG_TYPE, Buffer.from([0x7b, 0xff, 0x7d]), { crc: true })],
    ['a JSON array', payload([])],
    ['JSON null', payload('null')],
    ['an unknown message type', payload({ ...good, type: 'Gossip' })],
    ['a missing field', payload({ ...good, commit: undefined })],
    ['a negative term', payload({ ...good, term: -1 })],
    ['a fractional index', payload({ ...good, prevLogIndex: 1.5 })],
    ['an unsafe integer', payload({ ...good, commit: 2 ** 60 })],
    ['a string where a number belongs', payload({ ...good, term: '7' })],
    ['a non-string sender', payload({ ...good, from: 1 })],
    ['entries not an array', payload({ ...good, entries: {} })],
    ['an unknown entry type', payload({ ...good, entries: [{ index: 1, term: 1, type: 'weird', data: { s: '' } }] })],
    ['untagged entry data', payload({ ...good, entries: [{ index: 1, term: 1, type: 'normal', data: 'raw' }] })],
    ['entry data with both tags', payload({ ...good, entries: [{ index: 1, term: 1, type: 'normal', data: { s: '', b: '' } }] })],
    ['invalid base64', payload({ ...good, entries: [{ index: 1, term: 1, type: 'normal', data: { b: '!!!' } }] })],
    ['a snapshot without voters', payload({ ...env, type: 'InstallSnapshot', snapshot: { index: 1, term: 1, data: { s: '' } } })],
    ['a snapshot with a non-string voter', payload({ ...env, type: 'InstallSnapshot', snapshot: { index: 1, term: 1, voters: [1], data: { s: '' } } })],
    ['a non-boolean reject', payload({ ...env, type: 'AppendEntriesResult', reject: 0, index: 1, rejectHintIndex: 0, rejectHintTerm: 0 })],
    ['a non-boolean leadership transfer flag', payload({ ...env, type: 'RequestVote', preVote: false, lastLogIndex: 1, lastLogTerm: 1, leadershipTransfer: 'yes' })],
  ];

  it.each(garbage)('rejects %s with a CodecError', (_name, input) => {
    expect(() => decodeRaftMessage(input)).toThrow(CodecError);
  });

  it('reports field problems as RaftMessageDecodeError', () => {
    expect(() => decodeRaftMessage(payload({ ...good, type: 'Gossip' }))).toThrow(RaftMessageDecodeError);
  });

  it('never throws anything but a CodecError on mutated messages', () => {
    const seeds = variants.map(([, m]) => encodeRaftMessage(m));
    let state = 12345;
    const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(seeds[i % seeds.length]!);
      const flips = 1 + (next() % 4);
      for (let f = 0; f < flips; f++) b[next() % b.length] = next() & 0xff;
      const cut = next() % 3 === 0 ? b.subarray(0, next() % b.length) : b;
      try {
        decodeRaftMessage(cut);
      } catch (error) {
        expect(error).toBeInstanceOf(CodecError);
      }
    }
  });
});
