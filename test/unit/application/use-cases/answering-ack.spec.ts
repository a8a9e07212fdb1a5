import { Subject } from 'rxjs';
import { AckError, AckMessage, AckPolicy } from '../../../../src/application/ports/message-transport.port';
import { answeringAck, UNKNOWN_ACK_GRACE_MS } from '../../../../src/application/use-cases/answering-ack';
import { VirtualTime } from '../../../support/virtual-time';

const ack = (ackError: AckError, offset = 0): AckMessage => ({
  stream: 's', partitionSubject: 's', msgSubject: 's', offset, ackInbox: 'inbox', correlationId: 'c', ackPolicy: AckPolicy.ALL,
  receptionTimestampNs: 0n, commitTimestampNs: 0n, ackError,
});

/** Which ack answers a Publish call (answering-ack.ts), on virtual time. */
describe('the ack that answers a Publish call', () => {
  async function answer(script: (acks: Subject<AckMessage>, time: VirtualTime) => Promise<void>, waitMs = 5000): Promise<{ ack: AckMessage | null; atMs: number }> {
    const time = new VirtualTime();
    const acks = new Subject<AckMessage>();
    let result: { ack: AckMessage | null; atMs: number } | null = null;
    void answeringAck(acks, time, waitMs).then((a) => (result = { ack: a, atMs: time.elapsedMs }));
    await script(acks, time);
    await time.advance(waitMs + UNKNOWN_ACK_GRACE_MS);
    return result!;
  }

  it('is the first one, at once, when it is not UNKNOWN', async () => {
    const r = await answer(async (acks) => {
      acks.next(ack(AckError.INCORRECT_OFFSET));
      acks.next(ack(AckError.OK, 7));
    });
    expect([r.ack!.ackError, r.atMs]).toEqual([AckError.INCORRECT_OFFSET, 0]);
  });

  it('is an OK that follows an UNKNOWN within the grace (a new leader answering after the old one refused)', async () => {
    const r = await answer(async (acks, time) => {
      acks.next(ack(AckError.UNKNOWN));
      await time.advance(40);
      acks.next(ack(AckError.OK, 5));
    });
    expect([r.ack!.ackError, r.ack!.offset, r.atMs]).toEqual([AckError.OK, 5, 40]);
  });

  it('is the UNKNOWN once the grace passed without another answer', async () => {
    const r = await answer(async (acks) => acks.next(ack(AckError.UNKNOWN)));
    expect([r.ack!.ackError, r.atMs]).toEqual([AckError.UNKNOWN, UNKNOWN_ACK_GRACE_MS]);
  });

  it('is the UNKNOWN when the deadline comes first, and null when nothing came', async () => {
    const late = await answer(async (acks, time) => {
      await time.advance(4900);
      acks.next(ack(AckError.UNKNOWN));
    });
    expect([late.ack!.ackError, late.atMs]).toEqual([AckError.UNKNOWN, 5000]);
    const none = await answer(async () => undefined);
    expect([none.ack, none.atMs]).toEqual([null, 5000]);
  });
});
