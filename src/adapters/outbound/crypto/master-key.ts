import { inspect } from 'node:util';

/** The environment variable that holds the master key (docs/encryption.md). */
export const MASTER_KEY_ENV = 'LIFTBRIDGE_ENCRYPTION_KEY';

/** Master key lengths accepted, as Go Liftbridge's key wrap (Tink KWP) accepts them: AES-128 or AES-256. */
const MASTER_KEY_BYTES = [16, 32] as const;

const REDACTED = '[redacted master key]';

/**
 * The master key (key-encryption key): the raw bytes of LIFTBRIDGE_ENCRYPTION_KEY, the string
 * itself, not hex or base64. The bytes live in a private field and every way of printing the
 * object (JSON, util.inspect, template strings) shows a placeholder, so a configuration or an
 * error that carries it cannot leak it into a log line.
 */
export class MasterKey {
  readonly #bytes: Buffer;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** The UTF-8 bytes of `value`, whatever their length (`masterKeyProblem` judges it). */
  static fromString(value: string): MasterKey {
    return new MasterKey(Buffer.from(value, 'utf8'));
  }

  /** The key given by the environment, or null when the variable is unset or empty. */
  static fromEnv(env: Readonly<Record<string, string | undefined>>): MasterKey | null {
    const value = env[MASTER_KEY_ENV];
    return value === undefined || value === '' ? null : MasterKey.fromString(value);
  }

  get byteLength(): number {
    return this.#bytes.length;
  }

  /** A copy of the bytes, for the key wrap only. */
  bytes(): Buffer {
    return Buffer.from(this.#bytes);
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * Why `key` cannot be the master key, or null when it can. The message names the variable and the
 * length, never the key; it contains Go's `invalid AES key size` (clients and tests match on it).
 */
export function masterKeyProblem(key: MasterKey | null): string | null {
  const bytes = key?.byteLength ?? 0;
  if ((MASTER_KEY_BYTES as readonly number[]).includes(bytes)) return null;
  const given = key === null ? `${MASTER_KEY_ENV} is not set` : `${MASTER_KEY_ENV} is ${bytes} bytes long`;
  return `invalid AES key size; want 16 or 32, got ${bytes} (${given})`;
}
