/**
 * Counts the length-prefixed gRPC messages (1 flag byte, 4-byte big-endian length, the message) of
 * a response body as its DATA chunks arrive, without copying or decoding them: the receiving half
 * of the lean Subscribe reader (http2-subscribe.ts). A prefix cut by a chunk boundary is kept
 * until the next chunk.
 */
export class GrpcFrameCounter {
  messages = 0;
  /** Bytes of the messages themselves (without the 5-byte prefixes). */
  messageBytes = 0;
  /** Lengths of the first messages, for checks such as Liftbridge's empty handshake. */
  readonly firstLengths: number[] = [];
  /** Messages cut by a chunk boundary, which `onWhole` did not see. */
  split = 0;
  private readonly prefix = Buffer.alloc(5);
  private prefixHave = 0;
  private bodyLeft = 0;

  /**
   * `onWhole`, when given, sees each message that lies whole in one chunk (`chunk[start, end)`),
   * in place: a check without a copy. Messages cut by a chunk boundary are only counted (`split`).
   */
  constructor(
    private readonly keepFirst = 1,
    private readonly onWhole: ((chunk: Buffer, start: number, end: number) => void) | null = null,
  ) {}

  /** Takes one DATA chunk. */
  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - at);
        this.bodyLeft -= take;
        at += take;
        continue;
      }
      if (this.prefixHave === 0 && chunk.length - at >= 5) {
        const length = chunk.readUInt32BE(at + 1);
        this.begin(length);
        at += 5;
        if (this.onWhole !== null) {
          if (chunk.length - at >= length) this.onWhole(chunk, at, at + length);
          else this.split++;
        }
        continue;
      }
      this.prefix[this.prefixHave++] = chunk[at++]!;
      if (this.prefixHave === 5) {
        this.prefixHave = 0;
        this.begin(this.prefix.readUInt32BE(1));
        if (this.onWhole !== null) this.split++;
      }
    }
  }

  private begin(length: number): void {
    this.messages++;
    this.messageBytes += length;
    if (this.firstLengths.length < this.keepFirst) this.firstLengths.push(length);
    this.bodyLeft = length;
  }
}
