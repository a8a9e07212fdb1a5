import { createInbox, type NatsConnection } from 'nats';
import { decodeAckEnvelope } from '../../src/protocol/ack-codec';
import { AckPolicy } from '../../src/protocol/api-proto';
import { ENVELOPE_MAGIC, MsgType } from '../../src/protocol/envelope';
import { encodePublishEnvelope } from '../../src/protocol/publish-message-codec';
import { AckWindow } from './ack-window';
import { withDeadline } from './deadline';

/** True when `data` starts with an envelope header of MsgType Ack (the cheap per-message check). */
export function isAckEnvelope(data: Uint8Array): boolean {
  return (
    data.length >= 8 &&
    data[0] === ENVELOPE_MAGIC >>> 24 &&
    data[1] === ((ENVELOPE_MAGIC >>> 16) & 0xff) &&
    data[2] === ((ENVELOPE_MAGIC >>> 8) & 0xff) &&
    data[3] === (ENVELOPE_MAGIC & 0xff) &&
    data[7] === MsgType.Ack
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
 * Pipelined enveloped NATS publishes with one shared ack inbox (`ackPolicy`, LEADER unless given), `window` in
 * flight, counted on ack arrival. The envelope is encoded once; every ack is checked for the
 * envelope magic and type, and the last one is decoded for its offset and error code.
 */
export async function publishEnveloped(
  nc: NatsConnection,
  subject: string,
  value: Buffer,
  total: number,
  window: number,
  what: string,
  ackPolicy = AckPolicy.LEADER,
): Promise<EnvelopedPublishResult> {
  const inbox = createInbox();
  const envelope = encodePublishEnvelope({ value, ackInbox: inbox, ackPolicy, expectedOffset: -1 });
  const last = { data: Buffer.alloc(0) as Uint8Array };
  const pipeline = new AckWindow(what, total, window, () => nc.publish(subject, envelope));
  const sub = nc.subscribe(inbox, {
    callback: (error, msg) => {
      if (error) return pipeline.fail(new Error(`${what}: ack subscription failed: ${error.message}`));
      if (!isAckEnvelope(msg.data)) return pipeline.fail(new Error(`${what}: a message on the ack inbox is not an Ack envelope`));
      last.data = msg.data;
      pipeline.ack();
    },
  });
  try {
    await nc.flush();
    const elapsedNs = await pipeline.run();
    const ack = decodeAckEnvelope(last.data);
    if (ack.ackError !== 0) throw new Error(`${what}: the last ack carries error ${ack.ackError}`);
    return { elapsedNs, lastOffset: ack.offset };
  } finally {
    sub.unsubscribe();
  }
}
