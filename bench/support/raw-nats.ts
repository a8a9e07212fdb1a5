import * as net from 'node:net';
import { withDeadline } from './deadline';

const LF = 0x0a;
const SPACE = 0x20;
const DIGIT_0 = 0x30;
const M = 0x4d;
const P = 0x50;
const I = 0x49;
const O = 0x4f;
const MINUS = 0x2d;

/** Checks one received payload, `data[start, end)`; false fails the run. */
export type PayloadCheck = (data: Buffer, start: number, end: number) => boolean;

/** What a subscription is told once per socket read: how many messages completed, and the last one. */
export type MessagesHandler = (count: number, last: Buffer) => void;

/**
 * The leanest NATS client a bench case can have (docs/benchmarks.md "Clients"): one socket, the
 * protocol written by hand, no per-message allocation or callback. Publishes go out as pre-built
 * PUB frames, many per write; received MSG frames are counted per socket read. nats.js spends 3-4
 * µs of CPU per acked publish where this spends about 1, which on a two-core machine is CPU taken
 * from the server measured; every pipelined case uses this client so that none is client-bound.
 */
export class RawNatsConnection {
  private onMessages: MessagesHandler | null = null;
  private failure: ((error: Error) => void) | null = null;
  private readonly pongs: (() => void)[] = [];
  private readonly reader = new NatsFrameReader({
    ping: () => this.socket.write('PONG\r\n'),
    pong: () => this.pongs.shift()?.(),
    error: (message) => this.fail(new Error(message)),
  });

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      const count = this.reader.read(chunk);
      if (count > 0) this.onMessages?.(count, this.reader.last);
    });
    socket.on('error', (error) => this.fail(new Error(`raw NATS connection: ${error.message}`)));
    socket.on('close', () => this.fail(new Error('raw NATS connection closed')));
  }

  /** Connects to `url` (nats://host:port, no auth) and waits for the server's PONG. */
  static async open(url: string): Promise<RawNatsConnection> {
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    socket.setNoDelay(true);
    await withDeadline(new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject)), 10_000, `raw NATS connection to ${url}`);
    const connection = new RawNatsConnection(socket);
    socket.write('CONNECT {"verbose":false,"pedantic":false,"protocol":1,"headers":false,"no_responders":false,"name":"bench-raw"}\r\n');
    await connection.flush();
    return connection;
  }

  /** The one subscription of this connection (sid 1); every payload goes through `check`. */
  subscribe(subject: string, check: PayloadCheck | null, onMessages: MessagesHandler, onFailure: (error: Error) => void): void {
    this.reader.check = check;
    this.onMessages = onMessages;
    this.failure = onFailure;
    this.socket.write(`SUB ${subject} 1\r\n`);
  }

  /** Resolves when the server has processed everything written before (PING/PONG). */
  flush(): Promise<void> {
    const pong = new Promise<void>((resolve) => this.pongs.push(resolve));
    this.socket.write('PING\r\n');
    return withDeadline(pong, 10_000, 'raw NATS PONG');
  }

  write(frames: Buffer): void {
    this.socket.write(frames);
  }

  close(): void {
    this.failure = null;
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }

  private fail(error: Error): void {
    const failure = this.failure;
    this.failure = null;
    failure?.(error);
  }
}

export interface FrameEvents {
  ping(): void;
  pong(): void;
  error(message: string): void;
}

/**
 * The receiving half of the raw client: counts the complete MSG frames of each socket read and
 * answers PING; a frame cut by the read waits for the next one (its payload is then contiguous,
 * so checks read it in place).
 */
export class NatsFrameReader {
  check: PayloadCheck | null = null;
  /** The payload of the last complete message. */
  last: Buffer = Buffer.alloc(0);
  private pending: Buffer | null = null;

  constructor(private readonly events: FrameEvents) {}

  /** Takes one socket read; returns how many messages it completed. */
  read(chunk: Buffer): number {
    const data = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let at = 0;
    let count = 0;
    while (at < data.length) {
      const eol = data.indexOf(LF, at);
      if (eol < 0) break;
      const op = data[at];
      if (op === M) {
        const start = eol + 1;
        const end = start + sizeBeforeCr(data, eol);
        if (end + 2 > data.length) break; // the payload is not all here: parse the frame again with the next read
        if (this.check !== null && !this.check(data, start, end)) {
          this.events.error(`unexpected message: ${data.subarray(start, Math.min(end, start + 200)).toString('latin1')}`);
          return count;
        }
        this.last = data.subarray(start, end);
        count++;
        at = end + 2;
        continue;
      }
      if (op === P && data[at + 1] === I) this.events.ping();
      else if (op === P && data[at + 1] === O) this.events.pong();
      else if (op === MINUS) this.events.error(`nats-server: ${data.subarray(at, eol).toString('latin1').trim()}`);
      at = eol + 1;
    }
    if (at < data.length) this.pending = data.subarray(at);
    return count;
  }
}

/** The payload size at the end of a MSG control line (`... <size>\r\n`, `eol` at the \n). */
function sizeBeforeCr(data: Buffer, eol: number): number {
  let size = 0;
  let scale = 1;
  for (let i = eol - 2; data[i] !== SPACE; i--) {
    size += (data[i]! - DIGIT_0) * scale;
    scale *= 10;
  }
  return size;
}

/**
 * `count` copies of one PUB frame, built once: `frames(k)` is the first k of them as one buffer
 * (no copy), so k publishes cost one socket write.
 */
export class PubFrames {
  private readonly frameBytes: number;
  private readonly all: Buffer;

  constructor(subject: string, replyTo: string | null, payload: Uint8Array, readonly capacity: number) {
    const head = Buffer.from(`PUB ${subject}${replyTo === null ? '' : ` ${replyTo}`} ${payload.length}\r\n`, 'latin1');
    this.frameBytes = head.length + payload.length + 2;
    this.all = Buffer.allocUnsafe(this.frameBytes * capacity);
    for (let i = 0; i < capacity; i++) {
      const at = i * this.frameBytes;
      head.copy(this.all, at);
      this.all.set(payload, at + head.length);
      this.all[at + this.frameBytes - 2] = 0x0d;
      this.all[at + this.frameBytes - 1] = LF;
    }
  }

  frames(count: number): Buffer {
    return this.all.subarray(0, count * this.frameBytes);
  }
}
