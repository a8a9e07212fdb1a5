import { GRPC_FRAME_PREFIX_BYTES, RawFrameWriter, writeGrpcFramePrefix } from './grpc-raw-frames';

/**
 * Collects the encoded messages a streaming call sends during one synchronous run and writes them
 * as one buffer of gRPC frames (`RawFrameWriter`): the PublishAsync acks of one append arrive
 * together, and grpc-js would otherwise make one HTTP/2 write per ack.
 */
export class GrpcFrameBatch {
  private messages: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(private readonly raw: Pick<RawFrameWriter, 'write'>) {}

  add(message: Buffer): void {
    this.messages.push(message);
    this.bytes += GRPC_FRAME_PREFIX_BYTES + message.length;
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flush);
  }

  /** Writes what was added (also called before the call ends, so nothing is left behind). */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.messages.length === 0) return;
    const frames = Buffer.allocUnsafe(this.bytes);
    let at = 0;
    for (const message of this.messages) {
      at = writeGrpcFramePrefix(frames, at, message.length);
      at += message.copy(frames, at);
    }
    this.messages = [];
    this.bytes = 0;
    this.raw.write(frames);
  };
}
