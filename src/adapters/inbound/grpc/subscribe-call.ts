import { ServerWritableStream, status } from '@grpc/grpc-js';
import { once } from 'node:events';
import { RecordBatch } from '../../../application/ports/partition-log.port';
import { SubscribeHandler, SubscriptionEnd, SubscriptionSink } from '../../../application/use-cases/subscribe';
import { SubscribeRequest } from '../../codec/api-types';
import { encodeSubscribeBatch } from '../../codec/subscribe-message-codec';
import { toStatus } from './grpc-error-mapping';
import { int64ToOffset } from './request-mapping';

/** The empty `Message` Liftbridge sends first to tell the client the subscription is set up (spec §2.6). */
const HANDSHAKE = Buffer.alloc(0);

/** Messages a subscription may queue in grpc-js before it waits for the client to read. */
const QUEUED_MESSAGES_MAX = 4096;

const END_STATUS: Record<Exclude<SubscriptionEnd['kind'], 'Cancelled'>, { code: status; details: string }> = {
  StopOffsetReached: { code: status.RESOURCE_EXHAUSTED, details: 'Stop offset reached' },
  ReadonlyEnd: { code: status.RESOURCE_EXHAUSTED, details: 'End of readonly partition' },
  Deleted: { code: status.NOT_FOUND, details: 'commit log was deleted' },
  Paused: { code: status.FAILED_PRECONDITION, details: 'commit log was closed' },
  Closed: { code: status.INTERNAL, details: 'commit log was closed' },
};

/**
 * Serves one Subscribe call: stored entries are turned into `Message` bytes without decoding them
 * into objects, written in a burst, and the loop waits for the HTTP/2 stream to drain only when
 * grpc-js says its buffer is full (backpressure instead of unbounded buffering).
 */
export async function serveSubscribe(call: ServerWritableStream<SubscribeRequest, Buffer>, handler: SubscribeHandler): Promise<void> {
  const req = call.request;
  const abort = new AbortController();
  call.on('cancelled', () => abort.abort());
  call.on('close', () => abort.abort());
  const opened = await handler.open({
    stream: req.stream,
    partition: req.partition,
    startPosition: req.startPosition,
    startOffset: int64ToOffset(req.startOffset),
    startTimestampNs: req.startTimestamp,
    stopPosition: req.stopPosition,
    stopOffset: int64ToOffset(req.stopOffset),
    stopTimestampNs: req.stopTimestamp,
    readIsrReplica: req.readISRReplica,
    resume: req.resume,
    consumerGroupId: req.consumer?.groupId ?? '',
    consumerId: req.consumer?.consumerId ?? '',
  });
  if (!opened.ok) {
    const answer = toStatus(opened.error);
    call.emit('error', { code: answer.code, details: answer.message });
    return;
  }
  call.write(HANDSHAKE);
  const sink: SubscriptionSink = {
    write: (batch: RecordBatch) => {
      const messages = encodeSubscribeBatch(batch.bytes, batch.count, req.stream, req.partition);
      for (let i = 0; i < messages.length; i++) call.write(messages[i]);
      // Keep up to a few batches queued so the HTTP/2 stream never runs dry between reads; wait for
      // 'drain' only beyond that (bounded memory per subscriber).
      if (call.writableLength <= QUEUED_MESSAGES_MAX || abort.signal.aborted) return;
      return once(call, 'drain', { signal: abort.signal }).then(
        () => undefined,
        () => undefined,
      );
    },
  };
  const end = await opened.value.pump(sink, abort.signal);
  if (end.kind === 'Cancelled' || abort.signal.aborted) return;
  call.emit('error', END_STATUS[end.kind]);
}
