import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

const ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A NUID-like 22-character id, as Liftbridge generates when none is configured. */
export function generateServerId(): string {
  const bytes = randomBytes(22);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

/**
 * The server id persisted in `<data.dir>/liftbridge` as a `ServerState` protobuf (field 1, string),
 * docs/storage.md "On-disk layout": a stored id wins over the configured one, so a server keeps its identity.
 */
export async function resolveServerId(dataDir: string, configured: string | null): Promise<string> {
  const file = path.join(dataDir, 'liftbridge');
  const stored = await readStoredId(file);
  const id = stored ?? configured ?? generateServerId();
  if (stored !== id) await writeStoredId(file, id);
  return id;
}

async function readStoredId(file: string): Promise<string | null> {
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch {
    return null;
  }
  // field 1, wire type 2: tag 0x0a, varint length, bytes
  if (data.length < 2 || data[0] !== 0x0a) return null;
  let length = 0;
  let shift = 0;
  let i = 1;
  for (; i < data.length && i < 6; i++) {
    length |= (data[i]! & 0x7f) << shift;
    shift += 7;
    if ((data[i]! & 0x80) === 0) break;
  }
  const start = i + 1;
  if (length === 0 || start + length > data.length) return null;
  return data.subarray(start, start + length).toString('utf8');
}

async function writeStoredId(file: string, id: string): Promise<void> {
  const idBytes = Buffer.from(id, 'utf8');
  const lengthBytes: number[] = [];
  let n = idBytes.length;
  do {
    lengthBytes.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, Buffer.concat([Buffer.from([0x0a, ...lengthBytes]), idBytes]), { mode: 0o600 });
  await fs.rename(tmp, file);
}
