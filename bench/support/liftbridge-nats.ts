import { createInbox, type NatsConnection } from 'nats';
import { decodeAckEnvelope } from '../../src/protocol/ack-codec';
import { AckPolicy } from '../../src/protocol/api-proto';
import { ENVELOPE_MAGIC, MsgType } from '../../src/protocol/envelope';
import { encodePublishEnvelope } from '../../src/protocol/publish-message-codec';
import { withDeadline } from './deadline';
import { rawPipelinedPublish } from './raw-publish-pipeline';

/** True when `data` starts with an envelope header of MsgType Ack (the cheap per-message check). */
export function isAckEnvelope(data: Uint8Array): boolean {
  return isAckEnvelopeAt(data, 0, data.length);
}

/** The same check on `data[start, end)`, without a copy. */
export function isAckEnvelopeAt(data: Uint8Array, start: number, end: number): boolean {
  return (
    end - start >= 8 &&
    data[start] === ENVELOPE_MAGIC >>> 24 &&
    data[start + 1] === ((ENVELOPE_MAGIC >>> 16) & 0xff) &&
    data[start + 2] === ((ENVELOPE_MAGIC >>> 8) & 0xff) &&
    data[start + 3] === (ENVELOPE_MAGIC & 0xff) &&
    data[start + 7] === MsgType.Ack
  );
}

/**
 * Publishes one enveloped message on `subject` and waits for its ack, re-publishing with growing
 * pauses until `timeoutMs`: proves the partition leader is subscribed before anything is timed
 * (with AckPolicy ALL on a replicated partition: that the ISR replicates and commits, too).
 * Returns how many messages were published (a slow first ack can cause one extra).
 */
export async function warmUpPartition(nc: NatsConnection, subject: string, timeoutMs = 20_000, ackPolicy = AckPolicy.LEADER): Promise<number> {
  const inbox = createInbox();
  const envelope = encodePublishEnvelope({ value: Buffer.from('warm-up'), ackInbox: inbox, ackPolicy, expectedOffset: -1 });
  let published = 0;
  let timer: NodeJS.Timeout | undefined;
  const sub = nc.subscribe(inbox);
  try {
    await nc.flush();
    const acked = (async () => {
      for await (const msg of sub) if (isAckEnvelope(msg.data)) return;
    })();
    let pause = 100;
    const publish = (): void => {
      published++;
      nc.publish(subject, envelope);
      timer = setTimeout(publish, (pause = Math.min(pause * 2, 2_000)));
    };
    publish();
    await withDeadline(acked, timeoutMs, `the first ack from the partition on ${subject}`);
    return published;
  } finally {
    if (timer) clearTimeout(timer);
    sub.unsubscribe();
  }
}

export interface EnvelopedPublishResult {
  readonly elapsedNs: bigint;
  /** Offset in the last ack (acks of one partition arrive in offset order). */
  readonly lastOffset: bigint;
}

/**
 * Pipelined enveloped NATS publishes with one shared ack inbox (`ackPolicy`, LEADER unless given),
 * `window` in flight, counted on ack arrival, through the raw client (raw-nats.ts). The envelope is
 * encoded once; every ack is checked for the envelope magic and type, and the last one is decoded
 * for its offset and error code.
 */
export async function publishEnveloped(
  natsUrl: string,
  subject: string,
  value: Buffer,
  total: number,
  window: number,
  what: string,
  ackPolicy = AckPolicy.LEADER,
): Promise<EnvelopedPublishResult> {
  // The ack inbox is in the envelope, so it is fixed before the raw pipeline picks its own: use ours.
  const inbox = createInbox();
  const envelope = encodePublishEnvelope({ value, ackInbox: inbox, ackPolicy, expectedOffset: -1 });
  const result = await rawPipelinedPublish({
    url: natsUrl,
    subject,
    body: envelope,
    total,
    window,
    what,
    count: { inbox },
    check: (data, start, end) => isAckEnvelopeAt(data, start, end),
  });
  const ack = decodeAckEnvelope(result.last);
  if (ack.ackError !== 0) throw new Error(`${what}: the last ack carries error ${ack.ackError}`);
  return { elapsedNs: result.elapsedNs, lastOffset: ack.offset };
}
