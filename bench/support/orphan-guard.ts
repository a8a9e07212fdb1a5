import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '../..');

/**
 * Handle on bench/orphan-guard.ts, a detached process that kills the registered children and
 * removes the work directory if this process dies without cleaning up (e.g. SIGKILL).
 */
export class OrphanGuard {
  private readonly child: ChildProcess;

  constructor() {
    this.child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(repoRoot, 'bench', 'orphan-guard.ts')], {
      cwd: repoRoot,
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.child.unref();
    this.child.stdin?.on('error', () => undefined);
    (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  watch(pid: number): void {
    this.send(`+${pid}`);
  }

  forget(pid: number): void {
    this.send(`-${pid}`);
  }

  removeOnOrphan(dir: string): void {
    this.send(`dir ${dir}`);
  }

  /** The bench cleaned up: the guard exits without touching anything. */
  release(): void {
    this.send('release');
    this.child.stdin?.end();
  }

  private send(line: string): void {
    if (this.child.stdin?.writable) this.child.stdin.write(`${line}\n`);
  }
}
