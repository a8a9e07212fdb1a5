import { crc32c } from '@node-rs/crc32';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Observable, Subject } from 'rxjs';
import { Logger } from '../../../../application/ports/logger.port';
import { MetadataLog, MetadataLogEntry, MetadataProposalEntry } from '../../../../application/ports/metadata-log.port';
import { MetadataProposal } from '../../../../domain/metadata/metadata-proposal';

const RECORD_HEADER_BYTES = 8;
/** A metadata entry is small; anything claiming more is corruption, not a record to allocate for. */
const RECORD_BYTES_MAX = 16 * 1024 * 1024;
const SCHEMA_VERSION = 1;

/**
 * The single-node metadata log: one append-only file of CRC-framed JSON proposals
 * ([u32 length][u32 CRC-32C][payload], big-endian), fsynced before a proposal counts as committed.
 * Replaces Raft on a one-server cluster; the Raft adapter implements the same port.
 */
export class FilesystemMetadataLog implements MetadataLog {
  private readonly committed = new Subject<MetadataLogEntry>();
  private handle: fs.FileHandle | null = null;
  private lastIndex = 0;
  private size = 0;
  private serial: Promise<void> = Promise.resolve();
  readonly committed$: Observable<MetadataLogEntry> = this.committed.asObservable();
  readonly isLeader = true;

  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  private get file(): string {
    return path.join(this.dir, 'metadata.log');
  }

  async start(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    this.handle = await fs.open(this.file, 'a+');
    const data = await this.handle.readFile();
    let position = 0;
    const entries: MetadataProposalEntry[] = [];
    while (position < data.length) {
      const record = readRecord(data, position);
      if (!record) break;
      entries.push({ kind: 'proposal', index: entries.length + 1, proposal: record.proposal, recovered: true });
      position = record.end;
    }
    if (position < data.length && validRecordAfter(data, position)) {
      await this.handle.close();
      this.handle = null;
      // Damage in the middle, not a torn tail: cutting would silently forget later streams
      // (docs/reliability.md "Bad inputs" D16: refuse to start, name the file, never delete).
      throw new Error(
        `metadata log ${this.file} is corrupt at byte ${position} (entry ${entries.length + 1}) and has valid entries after it; ` +
          'refusing to start rather than dropping them (restore the file or remove the damaged entry by hand)',
      );
    }
    if (position < data.length) {
      this.logger.warn(
        { file: this.file, validBytes: position, cutBytes: data.length - position, lastIndex: entries.length },
        'metadata log has a torn or corrupt tail; truncating it to the last valid entry',
      );
      await this.handle.truncate(position);
      await this.handle.datasync();
    }
    this.size = position;
    this.lastIndex = entries.length;
    for (const entry of entries) this.committed.next(entry);
  }

  propose(proposal: MetadataProposal): Promise<void> {
    const run = this.serial.then(() => this.append(proposal));
    this.serial = run.catch(() => undefined);
    return run;
  }

  private async append(proposal: MetadataProposal): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new Error('metadata log is not open');
    const payload = Buffer.from(JSON.stringify({ v: SCHEMA_VERSION, p: proposal }), 'utf8');
    const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
    record.writeUInt32BE(payload.length, 0);
    record.writeUInt32BE(crc32c(payload), 4);
    payload.copy(record, RECORD_HEADER_BYTES);
    await handle.write(record, 0, record.length, this.size);
    await handle.datasync();
    this.size += record.length;
    this.committed.next({ kind: 'proposal', index: ++this.lastIndex, proposal, recovered: false });
  }

  async close(): Promise<void> {
    await this.serial;
    this.committed.complete();
    await this.handle?.close();
    this.handle = null;
  }
}

/** Whether a valid record starts anywhere after `from` (bounded scan: metadata logs are small). */
function validRecordAfter(data: Buffer, from: number): boolean {
  const end = Math.min(data.length, from + 16 * 1024 * 1024);
  for (let p = from + 1; p + RECORD_HEADER_BYTES < end; p++) if (readRecord(data, p) !== null) return true;
  return false;
}

function readRecord(data: Buffer, position: number): { proposal: MetadataProposal; end: number } | null {
  if (data.length - position < RECORD_HEADER_BYTES) return null;
  const length = data.readUInt32BE(position);
  if (length === 0 || length > RECORD_BYTES_MAX || position + RECORD_HEADER_BYTES + length > data.length) return null;
  const payload = data.subarray(position + RECORD_HEADER_BYTES, position + RECORD_HEADER_BYTES + length);
  if (crc32c(payload) !== data.readUInt32BE(position + 4)) return null;
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { v: number; p: MetadataProposal };
    if (parsed.v !== SCHEMA_VERSION || !parsed.p || !Array.isArray(parsed.p.events)) return null;
    return { proposal: parsed.p, end: position + RECORD_HEADER_BYTES + length };
  } catch {
    return null;
  }
}
