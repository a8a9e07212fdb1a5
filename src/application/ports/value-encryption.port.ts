import { NewRecord, RecordBatch } from './partition-log.port';

/**
 * Encryption at rest of message values (docs/encryption.md): the leader seals each value before it
 * is appended, every replica stores the sealed bytes as replicated, and the server that serves a
 * subscription opens them. Keys and headers stay in clear. No method, error or reason ever holds
 * the master key.
 */
export interface ValueEncryption {
  /**
   * Why values can be neither sealed nor opened on this server (no usable master key, naming
   * LIFTBRIDGE_ENCRYPTION_KEY), or null when they can. Sealers and openers still work as objects:
   * every seal throws `ValueSealingError` and every open fails with this reason.
   */
  readonly unavailableReason: string | null;
  /** A sealer with its own data key, generated on its first seal: one per partition leader. */
  sealer(): ValueSealer;
  /** An opener for one reader; it keeps the data keys it unwrapped. */
  opener(): ValueOpener;
}

export interface ValueSealer {
  /** Bytes sealing adds to a value (a null value is sealed as an empty one), so to its stored entry. */
  readonly overheadBytes: number;
  /**
   * The records with their values sealed, in order (a null value is sealed as an empty value, as
   * Go Liftbridge does). Synchronous and all or nothing: throws `ValueSealingError` and seals none.
   */
  seal(records: readonly NewRecord[]): NewRecord[];
}

export interface ValueOpener {
  /**
   * The entries of `batch` with their values opened (the stored bytes are not changed). Stops at
   * the first value it cannot open: `opened` then holds the entries before it (null when there are
   * none) and `failure` says which offset and why. The opened bytes may live in memory that the
   * next `open` of any opener reuses: use them (encode, copy) before opening again. They are for
   * delivery, not storage: each entry's size is rewritten, its CRC-32C field is not (it still
   * covers the sealed message); the stored bytes were checked against it when read, and each value
   * against its GCM tag when opened.
   */
  open(batch: RecordBatch): OpenedBatch;
}

export interface OpenedBatch {
  readonly opened: RecordBatch | null;
  readonly failure: ValueOpenFailure | null;
}

/** A value that cannot be opened: a different master key sealed it, or its bytes were altered. */
export interface ValueOpenFailure {
  readonly offset: number;
  readonly reason: string;
}

/** Values could not be sealed: the publishers get the ENCRYPTION ack error. */
export class ValueSealingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ValueSealingError';
  }
}
