/**
 * A simulated disk for the `FileSystem` seam (src/adapters/outbound/filesystem/file-system.ts) that
 * can lose power: everything not yet synced may be lost, in the ways simulated-nodes.ts describes
 * (a "sync-journal shim"; docs/testing.md "Power loss"). kill -9 keeps the page
 * cache, so only a layer like this one tests the fsync-before-ack claim.
 *
 * Deterministic: a seeded PRNG makes every choice, and operations complete after a seeded number
 * of microtasks (never timers), so one seed replays exactly. The adapters get a *view* (`mount()`)
 * bound to the current power cycle: after a crash every operation of an old view rejects, as the
 * process that issued it is gone; a new view sees what survived.
 *
 * Faults: `crashAtOperation(n)` cuts the power while the n-th operation is under way (it may be
 * torn); `crash()` cuts it now; `capacityBytes` makes writes that do not fit fail with ENOSPC (a
 * write that partly fits writes what fits, as writev(2) does); `failWhen(predicate, code)` fails
 * chosen operations.
 */
import { posix } from 'node:path';
import { FileSystem, OpenMode, StorageFile } from '../../../src/adapters/outbound/filesystem/file-system';
import { Prng, seededPrng } from '../../../src/domain/shared/prng';
import { DirNode, FileNode, Node } from './simulated-nodes';

export type OperationKind = 'open' | 'read' | 'write' | 'truncate' | 'sync' | 'mkdir' | 'rename' | 'remove' | 'syncDir';

export interface Operation {
  readonly kind: OperationKind;
  readonly path: string;
}

export interface PowerLossOptions {
  readonly seed: number;
  /** A power cut may leave a torn part of a write that was not durable yet (default true). */
  readonly tornWrites?: boolean;
  /** Operations complete after 0..n microtasks (default 3): more interleavings of concurrent I/O. */
  readonly latencyMicrotasksMax?: number;
}

const errno = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: ${message}`), { code });

export class PowerLossFileSystem {
  private root = new DirNode();
  private generation = 0;
  private readonly prng: Prng;
  private operations = 0;
  private crashAt = Number.POSITIVE_INFINITY;
  private readonly faults: { readonly matches: (op: Operation) => boolean; readonly code: string }[] = [];
  /** Writes that would make the files hold more than this many bytes fail with ENOSPC. */
  capacityBytes = Number.POSITIVE_INFINITY;
  /** How many power cuts happened. */
  crashes = 0;

  constructor(private readonly options: PowerLossOptions) {
    this.prng = seededPrng(options.seed);
  }

  /** A view for the process running now (the adapters' `FileSystem`). */
  mount(): FileSystem {
    return new PowerLossView(this, this.generation);
  }

  /** Operations issued so far (all views). */
  get operationCount(): number {
    return this.operations;
  }

  /** Cuts the power while the `n`-th operation from now is under way. */
  crashAtOperation(n: number): void {
    this.crashAt = this.operations + n;
  }

  /** Fails every operation that `matches` with `code` (e.g. ENOSPC, EIO) until `clearFaults`. */
  failWhen(matches: (op: Operation) => boolean, code: string): void {
    this.faults.push({ matches, code });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Cuts the power now: keeps what survives, and ends the current views. */
  crash(): void {
    this.root = this.root.crashImage(this.prng, this.options.tornWrites ?? true);
    this.generation++;
    this.crashes++;
    this.crashAt = Number.POSITIVE_INFINITY;
  }

  /** Bytes in all files now. */
  usedBytes(): number {
    let total = 0;
    const visit = (dir: DirNode): void => {
      for (const node of dir.entries.values()) {
        if (node.kind === 'dir') visit(node);
        else total += node.content.length;
      }
    };
    visit(this.root);
    return total;
  }

  /** The content of a file as reads see it now (for assertions), or null. */
  peek(path: string): Buffer | null {
    const node = this.lookup(path);
    return node?.kind === 'file' ? node.content.copy() : null;
  }

  // ---- used by the views and handles ----

  isLive(generation: number): boolean {
    return generation === this.generation;
  }

  /**
   * Runs one operation of `generation`: refused after a power cut, failed by an injected fault, or
   * applied now (`apply` returns what completes it) and settled after a few microtasks. The n-th
   * operation of `crashAtOperation` is applied and then the power goes while it is under way.
   */
  async run<T>(generation: number, op: Operation, apply: () => { result: T; complete?: () => void }): Promise<T> {
    if (!this.isLive(generation)) throw errno('EIO', `power was lost (${op.kind} ${op.path})`);
    this.operations++;
    const fault = this.faults.find((f) => f.matches(op));
    if (fault !== undefined) throw errno(fault.code, `injected fault (${op.kind} ${op.path})`);
    const { result, complete } = apply();
    if (this.operations >= this.crashAt) {
      this.crash();
      throw errno('EIO', `power was lost during ${op.kind} ${op.path}`);
    }
    const hops = this.prng.nextInt((this.options.latencyMicrotasksMax ?? 3) + 1);
    for (let i = 0; i < hops; i++) await Promise.resolve();
    if (!this.isLive(generation)) throw errno('EIO', `power was lost before ${op.kind} ${op.path} completed`);
    complete?.();
    return result;
  }

  lookup(path: string): Node | null {
    let node: Node = this.root;
    for (const part of parts(path)) {
      if (node.kind !== 'dir') return null;
      const next = node.entries.get(part);
      if (next === undefined) return null;
      node = next;
    }
    return node;
  }

  /** The directory holding `path` and the entry name, or ENOENT/ENOTDIR. */
  parentOf(path: string): { dir: DirNode; name: string } {
    const dirPath = posix.dirname(path);
    const dir = this.lookup(dirPath);
    if (dir === null) throw errno('ENOENT', `no such directory ${dirPath}`);
    if (dir.kind !== 'dir') throw errno('ENOTDIR', `${dirPath} is not a directory`);
    return { dir, name: posix.basename(path) };
  }

  /** Checks that writing `bytes` more fits; returns how many do (0 = ENOSPC). */
  room(growth: number): number {
    if (growth <= 0 || this.capacityBytes === Number.POSITIVE_INFINITY) return growth;
    return Math.max(0, Math.min(growth, this.capacityBytes - this.usedBytes()));
  }
}

function parts(path: string): string[] {
  return posix.normalize(path).split('/').filter((p) => p.length > 0);
}

class PowerLossView implements FileSystem {
  constructor(
    private readonly disk: PowerLossFileSystem,
    private readonly generation: number,
  ) {}

  open(path: string, mode: OpenMode): Promise<StorageFile> {
    return this.disk.run(this.generation, { kind: 'open', path }, () => {
      const { dir, name } = this.disk.parentOf(path);
      let node = dir.entries.get(name);
      if (node?.kind === 'dir') throw errno('EISDIR', path);
      if (node === undefined) {
        if (mode !== 'readWriteCreate' && mode !== 'createEmpty') throw errno('ENOENT', `no such file ${path}`);
        node = new FileNode();
        dir.change({ kind: 'link', name, node });
      } else if (mode === 'createEmpty' && node.content.length > 0) {
        node.truncate(0);
      }
      return { result: new PowerLossFile(this.disk, this.generation, path, node, mode) };
    });
  }

  readFile(path: string): Promise<Buffer> {
    return this.disk.run(this.generation, { kind: 'read', path }, () => {
      const node = this.disk.lookup(path);
      if (node === null) throw errno('ENOENT', `no such file ${path}`);
      if (node.kind === 'dir') throw errno('EISDIR', path);
      return { result: node.content.copy() };
    });
  }

  readdir(path: string): Promise<string[]> {
    return this.disk.run(this.generation, { kind: 'read', path }, () => {
      const node = this.disk.lookup(path);
      if (node === null) throw errno('ENOENT', `no such directory ${path}`);
      if (node.kind !== 'dir') throw errno('ENOTDIR', path);
      return { result: [...node.entries.keys()].sort() };
    });
  }

  mkdir(path: string): Promise<string | undefined> {
    return this.disk.run(this.generation, { kind: 'mkdir', path }, () => {
      let first: string | undefined;
      let at = '/';
      for (const part of parts(path)) {
        const dir = this.disk.lookup(at) as DirNode;
        at = posix.join(at, part);
        const node = dir.entries.get(part);
        if (node?.kind === 'file') throw errno('ENOTDIR', at);
        if (node === undefined) {
          dir.change({ kind: 'link', name: part, node: new DirNode() });
          first ??= at;
        }
      }
      return { result: first };
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.disk.run(this.generation, { kind: 'rename', path: to }, () => {
      const source = this.disk.parentOf(from);
      const target = this.disk.parentOf(to);
      if (source.dir !== target.dir) throw new Error(`the simulated disk renames within one directory only: ${from} → ${to}`);
      const node = source.dir.entries.get(source.name);
      if (node === undefined) throw errno('ENOENT', `no such file ${from}`);
      source.dir.change({ kind: 'rename', from: source.name, to: target.name, node });
      return { result: undefined };
    });
  }

  remove(path: string): Promise<void> {
    return this.disk.run(this.generation, { kind: 'remove', path }, () => {
      const node = this.disk.lookup(path);
      if (node !== null) {
        const { dir, name } = this.disk.parentOf(path);
        dir.change({ kind: 'unlink', name });
      }
      return { result: undefined };
    });
  }

  syncDir(path: string): Promise<void> {
    return this.disk.run(this.generation, { kind: 'syncDir', path }, () => {
      const node = this.disk.lookup(path);
      if (node === null) throw errno('ENOENT', `no such directory ${path}`);
      if (node.kind !== 'dir') throw errno('ENOTDIR', path);
      return { result: undefined, complete: node.startSync() };
    });
  }
}

class PowerLossFile implements StorageFile {
  constructor(
    private readonly disk: PowerLossFileSystem,
    private readonly generation: number,
    private readonly path: string,
    private readonly node: FileNode,
    private readonly mode: OpenMode,
  ) {}

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.disk.run(this.generation, { kind: 'read', path: this.path }, () => {
      if (this.mode === 'writeDsync') throw errno('EBADF', `${this.path} is open for writing only`);
      const content = this.node.content.view();
      const bytesRead = Math.max(0, Math.min(length, content.length - position));
      content.copy(buffer, offset, position, position + bytesRead);
      return { result: { bytesRead } };
    });
  }

  writev(buffers: readonly Buffer[], position: number): Promise<{ bytesWritten: number }> {
    return this.disk.run(this.generation, { kind: 'write', path: this.path }, () => {
      if (this.mode === 'read') throw errno('EBADF', `${this.path} is open for reading only`);
      const bytes = Buffer.concat(buffers);
      const growth = position + bytes.length - this.node.content.length;
      const fits = growth <= 0 ? bytes.length : bytes.length - growth + this.disk.room(growth);
      if (fits <= 0 && bytes.length > 0) throw errno('ENOSPC', `no space left on device (${this.path})`);
      const change = this.node.write(position, bytes.subarray(0, fits));
      const durable = this.mode === 'writeDsync';
      return { result: { bytesWritten: fits }, complete: () => void (change.durable = durable) };
    });
  }

  truncate(length: number): Promise<void> {
    return this.disk.run(this.generation, { kind: 'truncate', path: this.path }, () => {
      if (this.mode === 'read') throw errno('EBADF', `${this.path} is open for reading only`);
      if (this.disk.room(length - this.node.content.length) < length - this.node.content.length) throw errno('ENOSPC', this.path);
      this.node.truncate(length);
      return { result: undefined };
    });
  }

  datasync(): Promise<void> {
    return this.sync();
  }

  sync(): Promise<void> {
    return this.disk.run(this.generation, { kind: 'sync', path: this.path }, () => ({ result: undefined, complete: this.node.startSync() }));
  }

  stat(): Promise<{ size: number }> {
    return this.disk.run(this.generation, { kind: 'read', path: this.path }, () => ({ result: { size: this.node.content.length } }));
  }

  readFile(): Promise<Buffer> {
    return this.disk.run(this.generation, { kind: 'read', path: this.path }, () => ({ result: this.node.content.copy() }));
  }

  /** Closing always succeeds, even after a power cut (the descriptor is gone either way). */
  async close(): Promise<void> {}
}
