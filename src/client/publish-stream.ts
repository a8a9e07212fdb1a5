import type * as grpc from '@grpc/grpc-js';
import type * as api from '../protocol/api-types';
import type { ProtoInit } from '../protocol/proto-schema';
import { encodePublishRequest } from '../protocol/publish-request-codec';
import { GrpcFrameBatch } from '../protocol/grpc-frame-batch';
import type { RawFrameWriter } from '../protocol/grpc-raw-frames';

/** What the batch needs of the HTTP/2 stream: one write per batch of framed messages. */
type FrameWriter = Pick<RawFrameWriter, 'write'>;

export type PublishCall = grpc.ClientDuplexStream<ProtoInit<api.PublishRequest>, api.PublishResponse>;

/**
 * One PublishAsync stream of the AsyncPublisher, writing the requests of one synchronous run in one
 * HTTP/2 write once it can.
 *
 * Why: grpc-js hands a client stream's messages to HTTP/2 one at a time, each only after the
 * previous one's write callback (its retry buffer sends message n+1 when n completed), so a
 * pipelined publisher made one native write per message and spent most of its CPU there. gRPC
 * allows any number of length-prefixed messages per DATA frame; the server writes its responses
 * the same way (grpc-frame-batch.ts).
 *
 * The first requests go through grpc-js as usual. Once the call is committed to one HTTP/2 stream
 * and grpc-js holds no request of ours anywhere (Writable buffer, filter stack, retry buffer),
 * later requests are framed here and written to that stream directly, so none overtakes another.
 * This reaches into grpc-js internals (`call.call.call` is the ResolvingCall when the channel has
 * no interceptors, its `child` the RetryingCall, the committed attempt's `call.child` the
 * Http2SubchannelCall with `http2Stream`), with grpc-js pinned to an exact version and checked in
 * test/unit/client/publish-stream.spec.ts. When they are not there the stream stays on `call.write`.
 * The client's channels use no compression, so frames carry the uncompressed flag.
 */
export class PublishStream {
  private mode: 'grpc-js' | 'switching' | 'batched' = 'grpc-js';
  private batch: GrpcFrameBatch | null = null;
  /**
   * Requests written while switching, held until grpc-js has sent everything it was given; encoded
   * when written, so that a request that cannot be encoded fails its own write and nothing later.
   */
  private held: { readonly request: ProtoInit<api.PublishRequest>; readonly bytes: Buffer }[] = [];
  private probes = 0;
  private probeScheduled = false;

  constructor(readonly call: PublishCall) {}

  /** Whether requests now bypass grpc-js (for tests and diagnostics). */
  get batching(): boolean {
    return this.mode === 'batched';
  }

  /** Throws ProtobufEncodeError, having written nothing, when the request cannot be encoded (batched or switching). */
  write(request: ProtoInit<api.PublishRequest>): void {
    if (this.mode === 'batched') this.batch!.add(encodePublishRequest(request));
    else if (this.mode === 'grpc-js') this.call.write(request);
    else {
      this.held.push({ request, bytes: encodePublishRequest(request) });
      this.scheduleProbe();
    }
  }

  /**
   * A response arrived, so grpc-js has committed the call to one HTTP/2 stream: from now on hold
   * new requests until grpc-js has sent the ones it has, then write them (and all later ones) here.
   */
  onResponse(): void {
    if (this.mode === 'grpc-js' && this.probes === 0) this.mode = 'switching';
    if (this.mode === 'switching') this.trySwitch();
  }

  /** Half-closes after everything written: the batch, or what is held (through grpc-js, in order). */
  end(): void {
    if (this.mode === 'switching') this.trySwitch();
    if (this.mode === 'switching') this.stayOnGrpcJs();
    this.batch?.flush();
    this.call.end();
  }

  private trySwitch(): void {
    this.probes++;
    const probe = probeRawWriter(this.call);
    if (probe === 'not-yet' && this.probes < PROBES_MAX && !this.call.destroyed) {
      this.scheduleProbe();
      return;
    }
    if (probe === 'not-yet' || probe === 'unsupported') {
      this.stayOnGrpcJs();
      return;
    }
    this.batch = new GrpcFrameBatch(probe);
    this.mode = 'batched';
    for (const { bytes } of this.held) this.batch.add(bytes);
    this.held = [];
  }

  /** Nothing was written around grpc-js yet, so handing it the held requests keeps the order. */
  private stayOnGrpcJs(): void {
    this.mode = 'grpc-js';
    for (const { request } of this.held) this.call.write(request);
    this.held = [];
  }

  /** While requests are held, look again after the I/O grpc-js is waiting for. */
  private scheduleProbe(): void {
    if (this.probeScheduled || this.held.length === 0) return;
    this.probeScheduled = true;
    setImmediate(() => {
      this.probeScheduled = false;
      if (this.mode === 'switching') this.trySwitch();
    });
  }
}

/** Probes before giving up on batching for a stream (each one a response or an event-loop turn). */
const PROBES_MAX = 10_000;

interface Http2StreamLike {
  write(chunk: Buffer, callback: (error?: Error | null) => void): boolean;
  readonly destroyed: boolean;
}

interface ResolvingCallLike {
  child?: RetryingCallLike | null;
  writeFilterPending?: boolean;
  filterStack?: { filters?: readonly { currentCompressionAlgorithm?: string }[] };
}

interface RetryingCallLike {
  state?: string;
  committedCallIndex?: number | null;
  writeBufferOffset?: number;
  writeBuffer?: readonly unknown[];
  underlyingCalls?: readonly { state?: string; nextMessageToSend?: number; call?: { child?: { http2Stream?: Partial<Http2StreamLike> } | null } }[];
}

/** Write errors surface as the call's error and status; nothing to do per write. */
const ignoreWriteError = (): void => undefined;

/**
 * A writer to the call's HTTP/2 stream when requests may bypass grpc-js now; 'not-yet'
 * while grpc-js still holds a request or has not committed the call; 'unsupported' when grpc-js is
 * not shaped as expected.
 */
export function probeRawWriter(call: PublishCall): FrameWriter | 'not-yet' | 'unsupported' {
  const resolving = (call as unknown as { call?: { call?: ResolvingCallLike } }).call?.call;
  if (resolving === undefined || resolving === null || typeof resolving !== 'object' || !('writeFilterPending' in resolving)) return 'unsupported';
  const compression = resolving.filterStack?.filters?.find((f) => f.currentCompressionAlgorithm !== undefined)?.currentCompressionAlgorithm;
  if (compression !== undefined && compression !== 'identity') return 'unsupported';
  const retrying = resolving.child;
  if (retrying === undefined || retrying === null) return 'not-yet';
  if (!Array.isArray(retrying.underlyingCalls) || !Array.isArray(retrying.writeBuffer) || typeof retrying.writeBufferOffset !== 'number') return 'unsupported';
  if (retrying.state !== 'COMMITTED' || typeof retrying.committedCallIndex !== 'number') return 'not-yet';
  const attempt = retrying.underlyingCalls[retrying.committedCallIndex];
  if (attempt === undefined || attempt.state !== 'ACTIVE') return 'not-yet';
  // Every request grpc-js was given has reached the HTTP/2 stream: raw frames cannot overtake one.
  // (A request written before the call had a child stays in `pendingMessage` after it was sent.)
  if (call.writableLength !== 0 || resolving.writeFilterPending !== false) return 'not-yet';
  if (attempt.nextMessageToSend !== retrying.writeBufferOffset + retrying.writeBuffer.length) return 'not-yet';
  const stream = attempt.call?.child?.http2Stream;
  if (stream === undefined || typeof stream.write !== 'function' || typeof stream.destroyed !== 'boolean') return 'unsupported';
  const http2 = stream as Http2StreamLike;
  if (http2.destroyed) return 'not-yet';
  return {
    write(frames: Buffer): void {
      if (!http2.destroyed) http2.write(frames, ignoreWriteError);
    },
  };
}
