/**
 * Errors thrown by the wire codecs. Bad bytes from the network are not infrastructure failures
 * (nothing to retry) and not broken invariants (the process must survive them): the adapter that
 * received them catches these, rejects the input and counts it (docs/reliability.md "Bad inputs", A17, B6).
 */
export class CodecError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/** Bytes that are not a valid encoding of the expected protobuf message. */
export class ProtobufDecodeError extends CodecError {}

/** A value that cannot be encoded (wrong JS type, integer out of range): a bug in the caller. */
export class ProtobufEncodeError extends CodecError {}

/** A stored message-set entry whose lengths do not fit its bytes. */
export class MessageEntryCorruptError extends CodecError {}
