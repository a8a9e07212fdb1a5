import { ServerWritableStream, status } from '@grpc/grpc-js';
import { once } from 'node:events';
import { RecordBatch } from '../../../application/ports/partition-log.port';
import { SubscribeHandler, SubscriptionEnd, SubscriptionSink } from '../../../application/use-cases/subscribe';
import { SubscribeRequest } from '../../../protocol/api-types';
import { SubscribeMessageEncoder } from '../../codec/subscribe-message-codec';
import { GRPC_FRAME_PREFIX_BYTES, rawFrameWriter } from '../../../protocol/grpc-raw-frames';
import { toStatus } from './grpc-error-mapping';
import { int64ToOffset } from './request-mapping';
import { SHUTTING_DOWN_DETAILS, StreamingCalls } from './streaming-calls';

/** The empty `Message` Liftbridge sends first to tell the client the subscription is set up (docs/protocol.md "Subscribe"). */
const HANDSHAKE = Buffer.alloc(0);

/** The handshake as a framed message: flag 0, length 0. */
const HANDSHAKE_FRAME = Buffer.alloc(GRPC_FRAME_PREFIX_BYTES);

/** Messages a subscription may queue in grpc-js before it waits for the client to read. */
const QUEUED_MESSAGES_MAX = 4096;

/** Bytes a subscription may queue on its HTTP/2 stream (raw frames) before it waits for 'drain'. */
const QUEUED_BYTES_MAX = 2 * 1024 * 1024;

const END_STATUS: Record<Exclude<SubscriptionEnd['kind'], 'Cancelled' | 'Replaced' | 'DataLoss' | 'DecryptionFailed'>, { code: status; details: string }> = {
  StopOffsetReached: { code: status.RESOURCE_EXHAUSTED, details: 'Stop offset reached' },
  ReadonlyEnd: { code: status.RESOURCE_EXHAUSTED, details: 'End of readonly partition' },
  Deleted: { code: status.NOT_FOUND, details: 'commit log was deleted' },
  Paused: { code: status.FAILED_PRECONDITION, details: 'commit log was closed' },
  Closed: { code: status.INTERNAL, details: 'commit log was closed' },
};

/**
 * Serves one Subscribe call: stored entries are turned into `Message` bytes without decoding them
 * into objects. Each batch read from the log goes out as one buffer of length-prefixed messages in
 * one HTTP/2 write (`rawFrameWriter`), or message by message through grpc-js if its internals are
 * not as expected. The loop waits for the stream to drain only beyond a bounded queue
 * (backpressure instead of unbounded buffering). At shutdown (`calls`) it ends with UNAVAILABLE,
 * so that clients resubscribe elsewhere (go-liftbridge does on UNAVAILABLE, not on INTERNAL).
 */
export async function serveSubscribe(call: ServerWritableStream<SubscribeRequest, Buffer>, handler: SubscribeHandler, calls: StreamingCalls): Promise<void> {
  const abort = new AbortController();
  call.on('cancelled', () => abort.abort());
  call.on('close', () => abort.abort());
  let shutDown = false;
  const untrack = calls.track(() => {
    shutDown = true;
    abort.abort();
  });
  try {
    await serve(call, handler, abort, () => shutDown || calls.draining);
  } finally {
    untrack();
  }
}

async function serve(
  call: ServerWritableStream<SubscribeRequest, Buffer>,
  handler: SubscribeHandler,
  abort: AbortController,
  shuttingDown: () => boolean,
): Promise<void> {
  const req = call.request;
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
    consumerGroupEpoch: req.consumer?.groupEpoch ?? 0n,
    consumerId: req.consumer?.consumerId ?? '',
  });
  if (!opened.ok) {
    const answer = toStatus(opened.error);
    call.emit('error', { code: answer.code, details: answer.message });
    return;
  }
  const encoder = new SubscribeMessageEncoder(req.stream, req.partition);
  const raw = rawFrameWriter(call);
  const sink: SubscriptionSink = raw
    ? {
        write: (batch: RecordBatch) => {
          raw.write(encoder.encodeFrames(batch.bytes, batch.count));
          if (raw.bufferedBytes <= QUEUED_BYTES_MAX || abort.signal.aborted) return;
          return raw.drained(abort.signal);
        },
      }
    : messageByMessage(call, encoder, abort.signal);
  if (raw) raw.write(HANDSHAKE_FRAME);
  else call.write(HANDSHAKE);
  const end = await opened.value.pump(sink, abort.signal);
  // The server ended it, or its log closed while shutting down (leadership moved): go elsewhere.
  if (shuttingDown() && (end.kind === 'Cancelled' || end.kind === 'Closed') && !call.cancelled) {
    call.emit('error', { code: status.UNAVAILABLE, details: SHUTTING_DOWN_DETAILS });
    return;
  }
  if (end.kind === 'Cancelled' || abort.signal.aborted) return;
  // Replaced by a subscriber of the same group: the stream simply ends, as Liftbridge's does.
  if (end.kind === 'Replaced') {
    call.end();
    return;
  }
  call.emit('error', endStatus(end));
}

function endStatus(end: Exclude<SubscriptionEnd, { kind: 'Cancelled' | 'Replaced' }>): { code: status; details: string } {
  if (end.kind === 'DataLoss') return dataLossStatus(end.offset);
  if (end.kind === 'DecryptionFailed') return decryptionFailedStatus(end.offset, end.reason);
  return END_STATUS[end.kind];
}

/**
 * A value of an encrypted stream that cannot be opened (docs/encryption.md): UNKNOWN, the code Go
 * Liftbridge ends such a stream with, and a message that says which offset and why, so that one
 * reader learns it while the partition and its other readers go on.
 */
export function decryptionFailedStatus(offset: number, reason: string): { code: status; details: string } {
  return { code: status.UNKNOWN, details: `cannot decrypt the value at offset ${offset}: ${reason}` };
}

/**
 * A damaged record no in-sync replica can restore (docs/storage.md §4.1): DATA_LOSS, the gRPC code
 * for unrecoverable data loss, naming the offset, so a client can subscribe again past it. (Go
 * Liftbridge ends such a stream with INTERNAL and the CRC error; docs/compatibility.md.)
 */
export function dataLossStatus(offset: number): { code: status; details: string } {
  return {
    code: status.DATA_LOSS,
    details: `record at offset ${offset} is damaged on this server and no in-sync replica can restore it; subscribe from offset ${offset + 1} to read past it`,
  };
}

/** The fallback sink: each message through grpc-js's own write. */
function messageByMessage(call: ServerWritableStream<SubscribeRequest, Buffer>, encoder: SubscribeMessageEncoder, signal: AbortSignal): SubscriptionSink {
  return {
    write: (batch: RecordBatch) => {
      const messages = encoder.encodeBatch(batch.bytes, batch.count);
      for (let i = 0; i < messages.length; i++) call.write(messages[i]);
      // Keep up to a few batches queued so the HTTP/2 stream never runs dry between reads; wait for
      // 'drain' only beyond that (bounded memory per subscriber).
      if (call.writableLength <= QUEUED_MESSAGES_MAX || signal.aborted) return;
      return once(call, 'drain', { signal }).then(
        () => undefined,
        () => undefined,
      );
    },
  };
}
