import * as http2 from 'node:http2';
import { API_SERVICE_NAME } from '../../src/protocol/api-service-definition';
import { GRPC_FRAME_PREFIX_BYTES, writeGrpcFramePrefix } from '../../src/protocol/grpc-raw-frames';

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_TE } = http2.constants;

/** `message` behind gRPC's 5-byte length prefix: built once, then sent by every call of a run. */
export function grpcFramed(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(GRPC_FRAME_PREFIX_BYTES + message.length);
  framed.set(message, writeGrpcFramePrefix(framed, 0, message.length));
  return framed;
}

/**
 * The leanest unary gRPC client a latency case can have (docs/benchmarks.md "Clients"): one HTTP/2
 * session through node:http2 (nghttp2), a request stream per call with the pre-framed request
 * bytes, the response's gRPC frame and trailers read as they come. grpc-js spends about 0.3 ms of
 * client CPU per unary call on this machine, on the critical path of every call it times.
 * `call(done)` reports the response message bytes, or the problem (a gRPC status other than OK,
 * a reset, a missing message).
 */
export class Http2UnaryClient {
  private constructor(
    private readonly session: http2.ClientHttp2Session,
    private readonly headers: http2.OutgoingHttpHeaders,
  ) {}

  static async connect(address: string, method: string): Promise<Http2UnaryClient> {
    const session = http2.connect(`http://${address}`);
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
    session.on('error', () => undefined); // each call reports its own failure
    return new Http2UnaryClient(session, {
      [HTTP2_HEADER_METHOD]: 'POST',
      [HTTP2_HEADER_PATH]: `/${API_SERVICE_NAME}/${method}`,
      [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      [HTTP2_HEADER_TE]: 'trailers',
    });
  }

  call(framedRequest: Buffer, deadlineMs: number, done: (problem: string | null, response: Buffer | null) => void): void {
    const stream = this.session.request({ ...this.headers, 'grpc-timeout': `${deadlineMs}m` }, { endStream: false });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message: string | undefined;
    let settled = false;
    const settle = (problem: string | null, response: Buffer | null): void => {
      if (settled) return;
      settled = true;
      done(problem, response);
    };
    stream.on('response', (headers) => {
      // A trailers-only answer carries the status in the headers.
      if (headers['grpc-status'] !== undefined) status = String(headers['grpc-status']);
      if (headers['grpc-message'] !== undefined) message = String(headers['grpc-message']);
    });
    stream.on('trailers', (trailers) => {
      status = String(trailers['grpc-status']);
      if (trailers['grpc-message'] !== undefined) message = String(trailers['grpc-message']);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (error: Error) => settle(`stream error: ${error.message}`, null));
    stream.on('close', () => {
      if (status !== '0') return settle(`gRPC status ${status ?? 'missing'}${message ? `: ${decodeURIComponent(message)}` : ''}`, null);
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (body.length < 5) return settle('no response message', null);
      settle(null, body.subarray(5, 5 + body.readUInt32BE(1)));
    });
    stream.end(framedRequest);
  }

  close(): void {
    this.session.close();
  }
}
