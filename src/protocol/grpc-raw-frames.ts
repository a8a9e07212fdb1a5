import type { ServerWritableStream } from '@grpc/grpc-js';
import { once } from 'node:events';

/** gRPC's length prefix before each message on an HTTP/2 stream: compressed flag, uint32 BE length. */
export const GRPC_FRAME_PREFIX_BYTES = 5;

/** Writes the prefix of an uncompressed message of `length` bytes at `pos`; returns where the message goes. */
export function writeGrpcFramePrefix(out: Buffer, pos: number, length: number): number {
  out[pos] = 0;
  out.writeUInt32BE(length, pos + 1);
  return pos + GRPC_FRAME_PREFIX_BYTES;
}

/**
 * Writes already length-prefixed gRPC messages straight to a server call's HTTP/2 stream, many
 * per write.
 *
 * grpc-js sends each streamed message on its own: it copies the message into a new framed buffer,
 * passes it through a Node Writable that waits for the previous write's callback, and makes one
 * native HTTP/2 write per message. For a catch-up Subscribe that is most of the server's work per
 * message. gRPC's wire format allows any number of length-prefixed messages in one DATA frame, so a
 * batch encoded into one buffer (`SubscribeMessageEncoder.encodeFrames`) can go out in one write.
 *
 * This reaches into grpc-js internals (`call.call` is its BaseServerInterceptingCall when the server
 * has no interceptors, with the HTTP/2 `stream` and `maybeSendMetadata()`), checked here and in
 * test/unit/adapters/grpc/grpc-raw-frames.spec.ts against the pinned grpc-js version. When they are
 * not there, `rawFrameWriter` returns null and the caller writes through grpc-js as usual. Status
 * and trailers still go through grpc-js: it ends the HTTP/2 stream after everything written here.
 */
export interface RawFrameWriter {
  /** Writes framed messages (the response headers go first if grpc-js has not sent them yet). */
  write(frames: Buffer): void;
  /** Bytes handed to the HTTP/2 stream and not yet passed to the connection. */
  readonly bufferedBytes: number;
  /** Resolves once the HTTP/2 stream drained, or when `signal` aborts. */
  drained(signal: AbortSignal): Promise<void>;
}

interface Http2StreamLike {
  write(chunk: Buffer, callback: (error?: Error | null) => void): boolean;
  readonly writableLength: number;
  readonly destroyed: boolean;
  on(event: 'drain', listener: () => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

interface BaseServerCallInternals {
  readonly stream: Http2StreamLike;
  maybeSendMetadata(): void;
}

function baseCallOf(call: unknown): BaseServerCallInternals | null {
  const inner = (call as { call?: Partial<BaseServerCallInternals> } | null)?.call;
  if (inner === null || typeof inner !== 'object') return null;
  if (typeof inner.maybeSendMetadata !== 'function') return null;
  const stream = inner.stream as Partial<Http2StreamLike> | undefined;
  if (stream === undefined || typeof stream.write !== 'function' || typeof stream.writableLength !== 'number') return null;
  return inner as BaseServerCallInternals;
}

/** Write errors surface as the call's cancellation ('close'/'cancelled'); nothing to do per write. */
const ignoreWriteError = (): void => undefined;

/** A raw frame writer for `call`, or null when grpc-js is not shaped as expected (use `call.write`). */
export function rawFrameWriter(call: ServerWritableStream<unknown, unknown>): RawFrameWriter | null {
  const base = baseCallOf(call);
  if (base === null || call.writableLength !== 0) return null;
  const stream = base.stream;
  return {
    write(frames: Buffer): void {
      if (stream.destroyed) return;
      base.maybeSendMetadata();
      stream.write(frames, ignoreWriteError);
    },
    get bufferedBytes(): number {
      return stream.writableLength;
    },
    drained(signal: AbortSignal): Promise<void> {
      if (stream.destroyed || signal.aborted) return Promise.resolve();
      return once(stream as unknown as NodeJS.EventEmitter, 'drain', { signal }).then(
        () => undefined,
        () => undefined,
      );
    },
  };
}
