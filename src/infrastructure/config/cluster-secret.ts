/**
 * The cluster secret that authenticates internal NATS messages (docs/cluster.md "Authentication"):
 * `clustering.auth.secret` inline or `clustering.auth.secret.file`. Checked when the configuration
 * is loaded and read again when the broker starts; either way a secret that is too short or a file
 * that cannot be read stops the server with a message naming the key. No message ever holds the
 * secret.
 */
import { readFile } from 'node:fs/promises';
import type { BrokerConfig } from './broker-config';

/** 256 bits: as much as HMAC-SHA256 can use, and what `openssl rand -base64 32` prints (44 bytes). */
export const CLUSTER_SECRET_BYTES_MIN = 32;
/** A secret file larger than this is a wrong path. */
export const CLUSTER_SECRET_FILE_BYTES_MAX = 4096;

/** A secret that cannot be used; `key` is the configuration key to fix. */
export class ClusterSecretError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClusterSecretError';
  }
}

/** Why a secret of `bytes` bytes given by `key` cannot be used, or null when it can. */
export function clusterSecretProblem(key: string, bytes: number): string | null {
  if (bytes >= CLUSTER_SECRET_BYTES_MIN) return null;
  return `"${key}" is ${bytes} bytes long: a cluster secret needs at least ${CLUSTER_SECRET_BYTES_MIN} bytes (e.g. the output of "openssl rand -base64 32")`;
}

/** The secret's bytes, or null when none is configured. Throws ClusterSecretError. */
export async function readClusterSecret(clustering: Pick<BrokerConfig['clustering'], 'authSecret' | 'authSecretFile'>): Promise<Buffer | null> {
  if (clustering.authSecret !== undefined && clustering.authSecretFile !== undefined) {
    throw new ClusterSecretError('clustering.auth.secret.file', '"clustering.auth.secret" and "clustering.auth.secret.file" cannot both be set');
  }
  let key: string;
  let secret: Buffer;
  if (clustering.authSecret !== undefined) {
    key = 'clustering.auth.secret';
    secret = Buffer.from(clustering.authSecret, 'utf8');
  } else if (clustering.authSecretFile !== undefined) {
    key = 'clustering.auth.secret.file';
    secret = stripTrailingNewlines(await readSecretFile(clustering.authSecretFile));
  } else {
    return null;
  }
  const problem = clusterSecretProblem(key, secret.length);
  if (problem !== null) throw new ClusterSecretError(key, problem);
  return secret;
}

async function readSecretFile(path: string): Promise<Buffer> {
  const key = 'clustering.auth.secret.file';
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ClusterSecretError(key, `Cannot read the file of "${key}": ${JSON.stringify(path)} (${reason})`);
  }
  if (data.length > CLUSTER_SECRET_FILE_BYTES_MAX) {
    throw new ClusterSecretError(key, `The file of "${key}" is larger than ${CLUSTER_SECRET_FILE_BYTES_MAX} bytes: ${JSON.stringify(path)}`);
  }
  return data;
}

/** `echo secret > file` adds a newline that is not part of the secret. */
function stripTrailingNewlines(data: Buffer): Buffer {
  let end = data.length;
  while (end > 0 && (data[end - 1] === 0x0a || data[end - 1] === 0x0d)) end--;
  return data.subarray(0, end);
}
