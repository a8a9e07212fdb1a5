import { createHmac, timingSafeEqual } from 'node:crypto';

/** Bytes of the HMAC-SHA256 tag appended to every signed internal message. */
export const MAC_BYTES = 32;

/** Why a message failed verification (also the `reason` label of the dropped-messages counter). */
export type MacFailure = 'unsigned' | 'bad-signature';

/** Domain separation: the tag key is derived from the secret for this one purpose. */
const KEY_CONTEXT = 'liftbridge-ts internal message MAC v1';

/**
 * Signs and verifies the cluster's internal NATS messages with a shared secret (docs/cluster.md
 * "Authentication"): `payload || HMAC-SHA256(key, len(subject) subject len(reply) reply payload)`,
 * lengths as 32-bit big-endian byte counts, key = HMAC-SHA256(secret, KEY_CONTEXT). Binding the
 * subject and the reply subject means a signed message cannot be replayed onto another subject,
 * nor a request's answer redirected to another inbox.
 */
export class MessageAuthenticator {
  private readonly key: Buffer;
  /** The two length fields; reused, since signing and verifying are synchronous. */
  private readonly lengths = Buffer.alloc(8);

  constructor(secret: Uint8Array) {
    this.key = createHmac('sha256', secret).update(KEY_CONTEXT, 'utf8').digest();
  }

  /** A new buffer: the payload followed by its tag. */
  sign(subject: string, reply: string, payload: Uint8Array): Buffer {
    const signed = Buffer.allocUnsafe(payload.length + MAC_BYTES);
    signed.set(payload, 0);
    this.tag(subject, reply, payload).copy(signed, payload.length);
    return signed;
  }

  /** The payload (a view of `signed`, without the tag) when the tag is right, else why not. */
  verify(subject: string, reply: string, signed: Uint8Array): Uint8Array | MacFailure {
    if (signed.length < MAC_BYTES) return 'unsigned';
    const payload = signed.subarray(0, signed.length - MAC_BYTES);
    const expected = this.tag(subject, reply, payload);
    return timingSafeEqual(expected, signed.subarray(signed.length - MAC_BYTES)) ? payload : 'bad-signature';
  }

  private tag(subject: string, reply: string, payload: Uint8Array): Buffer {
    this.lengths.writeUInt32BE(Buffer.byteLength(subject, 'utf8'), 0);
    this.lengths.writeUInt32BE(Buffer.byteLength(reply, 'utf8'), 4);
    return createHmac('sha256', this.key).update(this.lengths).update(subject, 'utf8').update(reply, 'utf8').update(payload).digest();
  }
}
