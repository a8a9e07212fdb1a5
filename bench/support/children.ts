import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import { withDeadline } from './deadline';

const LOG_TAIL_CHARS = 8_000;

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One child process started by the bench: its output tail (for error messages) and its exit. */
export class ManagedChild {
  private tail = '';
  readonly exited: Promise<ExitInfo>;

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    const keep = (chunk: Buffer): void => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS);
    };
    process.stdout?.on('data', keep);
    process.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => process.once('exit', (code, signal) => resolve({ code, signal })));
    // A spawn failure (e.g. missing binary) surfaces as 'error' and then 'exit'; keep it in the tail.
    process.once('error', (error) => (this.tail += `\n[spawn error] ${error.message}`));
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  get logs(): string {
    return this.tail;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5_000): Promise<ExitInfo> {
    if (this.running) this.process.kill('SIGTERM');
    try {
      return await withDeadline(this.exited, graceMs, `${this.name} to exit after SIGTERM`);
    } catch {
      if (this.running) this.process.kill('SIGKILL');
      return withDeadline(this.exited, graceMs, `${this.name} to exit after SIGKILL`);
    }
  }
}

/** Told about every child's pid, so that something outside this process can kill orphans. */
export interface ChildWatcher {
  watch(pid: number): void;
  forget(pid: number): void;
}

/** Every child the bench started, so that all of them are stopped on success, error and signals. */
export class ChildRegistry {
  private readonly children = new Set<ManagedChild>();

  constructor(private readonly watcher?: ChildWatcher) {}

  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): ManagedChild {
    const child = new ManagedChild(name, spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options }));
    const pid = child.process.pid;
    this.children.add(child);
    if (pid !== undefined) this.watcher?.watch(pid);
    void child.exited.then(() => {
      this.children.delete(child);
      if (pid !== undefined) this.watcher?.forget(pid);
    });
    return child;
  }

  /** Stops the children, newest first (the broker before the nats-server it uses). */
  async stopAll(): Promise<void> {
    for (const child of [...this.children].reverse()) {
      try {
        await child.stop();
      } catch (error) {
        process.stderr.write(`bench: could not stop ${child.name} (pid ${child.process.pid}): ${(error as Error).message}\n`);
      }
    }
  }

  /** Last resort from a synchronous 'exit' handler: SIGKILL whatever is still running. */
  killAllNow(): void {
    for (const child of this.children) if (child.running) child.process.kill('SIGKILL');
  }
}
