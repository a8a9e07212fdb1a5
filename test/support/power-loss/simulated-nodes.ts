/**
 * Files and directories of the power-loss file system (power-loss-file-system.ts), each with two
 * contents: what reads see now (the page cache) and what survives a power cut (the durable base
 * plus a journal of the changes made since the last sync of that file or directory).
 *
 * A power cut keeps, for every file and directory, the durable base, then a random prefix of its
 * journal (the kernel writes back in order, but may stop anywhere), optionally a torn part of the
 * next write (a prefix of its bytes, zeros, or garbage of that length: the size reached the disk
 * but not the data), and every later change that was already reported durable (a write through an
 * O_DSYNC handle that returned). Changes never reported durable may all be lost.
 */
import { Prng } from '../../../src/domain/shared/prng';

/** A growable byte array (amortized appends, as a file grows record by record). */
export class Bytes {
  private buf: Buffer;
  length: number;

  constructor(initial: Buffer = Buffer.alloc(0)) {
    this.buf = Buffer.from(initial);
    this.length = initial.length;
  }

  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  copy(): Buffer {
    return Buffer.from(this.view());
  }

  write(position: number, bytes: Buffer): void {
    const end = position + bytes.length;
    this.ensure(end);
    if (position > this.length) this.buf.fill(0, this.length, position);
    bytes.copy(this.buf, position);
    this.length = Math.max(this.length, end);
  }

  truncate(length: number): void {
    if (length > this.length) {
      this.ensure(length);
      this.buf.fill(0, this.length, length);
    }
    this.length = length;
  }

  private ensure(capacity: number): void {
    if (capacity <= this.buf.length) return;
    const grown = Buffer.alloc(Math.max(capacity, this.buf.length * 2, 256));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
}

export type FileChange =
  | { readonly kind: 'write'; readonly position: number; readonly bytes: Buffer; durable: boolean }
  | { readonly kind: 'truncate'; readonly length: number; durable: boolean };

export class FileNode {
  readonly kind = 'file';
  readonly content: Bytes;
  /** Durable content as of the last completed sync. */
  private base: Buffer;
  /** Changes since then, in order. */
  private journal: FileChange[] = [];

  constructor(content: Buffer = Buffer.alloc(0)) {
    this.content = new Bytes(content);
    this.base = Buffer.from(content);
  }

  write(position: number, bytes: Buffer): FileChange {
    this.content.write(position, bytes);
    const change: FileChange = { kind: 'write', position, bytes: Buffer.from(bytes), durable: false };
    this.journal.push(change);
    return change;
  }

  truncate(length: number): FileChange {
    this.content.truncate(length);
    const change: FileChange = { kind: 'truncate', length, durable: false };
    this.journal.push(change);
    return change;
  }

  /** A sync starts: returns what completes it (the changes made before it are then durable). */
  startSync(): () => void {
    const covered = new Set(this.journal);
    return () => {
      const bytes = new Bytes(this.base);
      for (const change of this.journal) if (covered.has(change)) apply(bytes, change);
      this.base = bytes.copy();
      this.journal = this.journal.filter((c) => !covered.has(c));
    };
  }

  /** What a power cut leaves of this file. */
  crashImage(prng: Prng, torn: boolean): FileNode {
    const bytes = new Bytes(this.base);
    const cut = prng.nextInt(this.journal.length + 1);
    this.journal.forEach((change, i) => {
      if (i < cut || change.durable) apply(bytes, change);
      else if (i === cut && torn && change.kind === 'write') tear(bytes, change, prng);
    });
    return new FileNode(bytes.copy());
  }
}

function apply(bytes: Bytes, change: FileChange): void {
  if (change.kind === 'write') bytes.write(change.position, change.bytes);
  else bytes.truncate(change.length);
}

/** Part of a write that was under way: a prefix of its bytes, or that many zeros, or garbage. */
function tear(bytes: Bytes, change: Extract<FileChange, { kind: 'write' }>, prng: Prng): void {
  const length = prng.nextInt(change.bytes.length + 1);
  if (length === 0) return;
  const mode = prng.nextInt(3);
  let part: Buffer;
  if (mode === 0) part = change.bytes.subarray(0, length);
  else if (mode === 1) part = Buffer.alloc(length);
  else {
    part = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) part[i] = prng.nextInt(256);
  }
  bytes.write(change.position, part);
}

export type DirChange =
  | { readonly kind: 'link'; readonly name: string; readonly node: Node }
  | { readonly kind: 'unlink'; readonly name: string }
  | { readonly kind: 'rename'; readonly from: string; readonly to: string; readonly node: Node };

export class DirNode {
  readonly kind = 'dir';
  readonly entries = new Map<string, Node>();
  private base = new Map<string, Node>();
  private journal: DirChange[] = [];

  change(change: DirChange): void {
    applyDir(this.entries, change);
    this.journal.push(change);
  }

  startSync(): () => void {
    const covered = new Set(this.journal);
    return () => {
      for (const change of this.journal) if (covered.has(change)) applyDir(this.base, change);
      this.journal = this.journal.filter((c) => !covered.has(c));
    };
  }

  /** What a power cut leaves of this directory and everything under it. */
  crashImage(prng: Prng, torn: boolean): DirNode {
    const entries = new Map(this.base);
    const cut = prng.nextInt(this.journal.length + 1);
    for (const change of this.journal.slice(0, cut)) applyDir(entries, change);
    const image = new DirNode();
    for (const name of [...entries.keys()].sort()) {
      const node = entries.get(name)!;
      image.entries.set(name, node.crashImage(prng, torn));
    }
    image.base = new Map(image.entries);
    return image;
  }
}

function applyDir(entries: Map<string, Node>, change: DirChange): void {
  if (change.kind === 'link') entries.set(change.name, change.node);
  else if (change.kind === 'unlink') entries.delete(change.name);
  else if (entries.get(change.from) === change.node) {
    entries.delete(change.from);
    entries.set(change.to, change.node);
  }
}

export type Node = FileNode | DirNode;
