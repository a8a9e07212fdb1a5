import { MAC_BYTES, MessageAuthenticator } from '../../../../src/adapters/outbound/nats/message-authenticator';

const secret = Buffer.from('0123456789abcdef0123456789abcdef', 'utf8');
const payload = Buffer.from('a raft message');

describe('MessageAuthenticator (docs/cluster.md "Authentication")', () => {
  const mac = new MessageAuthenticator(secret);

  it('appends a 32-byte tag and gives back exactly the payload when the tag is right', () => {
    const signed = mac.sign('ns.raft.node.b', '', payload);
    expect(signed).toHaveLength(payload.length + MAC_BYTES);
    expect(Buffer.from(signed.subarray(0, payload.length))).toEqual(payload);
    const verified = mac.verify('ns.raft.node.b', '', signed);
    expect(typeof verified).not.toBe('string');
    expect(Buffer.from(verified as Uint8Array)).toEqual(payload);
    expect(Buffer.from(mac.verify('ns.x', '', mac.sign('ns.x', '', new Uint8Array(0))) as Uint8Array)).toEqual(Buffer.alloc(0));
  });

  it('refuses a message signed for one subject on another subject', () => {
    const signed = mac.sign('ns.raft.node.b', '', payload);
    expect(mac.verify('ns.raft.node.c', '', signed)).toBe('bad-signature');
    expect(mac.verify('ns.raft.metadata.propagate', '', signed)).toBe('bad-signature');
  });

  it('binds the reply subject: a request cannot be redirected to another inbox', () => {
    const signed = mac.sign('ns.raft.metadata.propagate', '_INBOX.abc.1', payload);
    expect(typeof mac.verify('ns.raft.metadata.propagate', '_INBOX.abc.1', signed)).not.toBe('string');
    expect(mac.verify('ns.raft.metadata.propagate', '_INBOX.evil.1', signed)).toBe('bad-signature');
    expect(mac.verify('ns.raft.metadata.propagate', '', signed)).toBe('bad-signature');
  });

  it('length-prefixes subject and reply, so moving bytes between them breaks the tag', () => {
    const signed = mac.sign('ns.a', 'b', payload);
    expect(mac.verify('ns.ab', '', signed)).toBe('bad-signature');
  });

  it('refuses a changed payload, a short message, and a tag made with another secret', () => {
    const signed = Buffer.from(mac.sign('ns.raft.heartbeat', '', payload));
    signed[0] ^= 1;
    expect(mac.verify('ns.raft.heartbeat', '', signed)).toBe('bad-signature');
    expect(mac.verify('ns.raft.heartbeat', '', new Uint8Array([1]))).toBe('unsigned');
    expect(mac.verify('ns.raft.heartbeat', '', new Uint8Array(MAC_BYTES - 1))).toBe('unsigned');
    const other = new MessageAuthenticator(Buffer.from('another secret of at least 32 bytes!!', 'utf8'));
    expect(mac.verify('ns.raft.heartbeat', '', other.sign('ns.raft.heartbeat', '', payload))).toBe('bad-signature');
  });
});
