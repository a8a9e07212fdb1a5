import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import type { MemberArguments, MemberEvent } from './group-member-process';

const root = path.resolve(__dirname, '../..');
const script = path.join(__dirname, 'group-member-process.ts');

/** The command and arguments that run one member process (run them in the repository's root). */
export function memberCommand(args: MemberArguments): [string, string[]] {
  return [process.execPath, ['-r', 'ts-node/register/transpile-only', script, JSON.stringify(args)]];
}

/** The repository's root, where `memberCommand` runs. */
export const memberWorkingDirectory = root;

/** One message a member process was handed, with when the parent read its line. */
export interface MemberMessage {
  readonly stream: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  /** Date.now() when the line reached this process. */
  readonly atMs: number;
  /**
   * Which stretch of ownership of the partition it came in: the count of `assigned` lines, before
   * it, without the partition. A member that lost a partition and got it back reads it again from
   * the group's cursor, so offsets only rise within one stretch.
   */
  readonly stretch: number;
}

/**
 * A consumer group member running in a child process (test/support/group-member-process.ts):
 * what it received, in order, and how to end it — `kill()` (SIGKILL, a silent death: no
 * checkpoint, no leave) or `stop()` (SIGTERM: it checkpoints and leaves the group).
 */
export class GroupMemberProcess {
  readonly messages: MemberMessage[] = [];
  /** The partitions it reads now, as `stream/partition` (its latest `assigned` line). */
  assigned: readonly string[] = [];
  private joinedFlag = false;
  private closedFlag = false;
  private errors = '';
  private partialLine = '';
  private readonly stretches = new Map<string, number>();
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly consumerId: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => this.read(chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (this.errors += chunk.toString('utf8')));
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static spawn(args: MemberArguments): GroupMemberProcess {
    const [command, argv] = memberCommand(args);
    const child = spawn(command, argv, { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    return GroupMemberProcess.of(args.consumerId, child);
  }

  /** Follows a member process started elsewhere (e.g. by the bench's child registry) with `memberCommand`, its stdout and stderr piped. */
  static of(consumerId: string, child: ChildProcess): GroupMemberProcess {
    return new GroupMemberProcess(consumerId, child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Whether it polled its first assignment. */
  get joined(): boolean {
    return this.joinedFlag;
  }

  /** Whether it closed its consumer after a SIGTERM (checkpointed and left). */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** What it wrote to stderr (a failure's stack). */
  get stderr(): string {
    return this.errors;
  }

  /** kill -9: the member stops polling and checkpointing without leaving the group. */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exit;
  }

  /** SIGTERM: the member checkpoints what it was handed and leaves; resolves when it exited. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill('SIGTERM');
    return this.exit;
  }

  private read(text: string): void {
    const lines = (this.partialLine + text).split('\n');
    this.partialLine = lines.pop()!;
    const atMs = Date.now();
    for (const line of lines) {
      if (line.trim() === '') continue;
      const event = JSON.parse(line) as MemberEvent;
      if (event.type === 'joined') this.joinedFlag = true;
      else if (event.type === 'closed') this.closedFlag = true;
      else if (event.type === 'assigned') this.reassigned(event.partitions);
      else {
        const stretch = this.stretches.get(`${event.stream}/${event.partition}`) ?? 0;
        this.messages.push({ stream: event.stream, partition: event.partition, offset: event.offset, value: event.value, atMs, stretch });
      }
    }
  }

  private reassigned(partitions: readonly string[]): void {
    for (const lost of this.assigned) if (!partitions.includes(lost)) this.stretches.set(lost, (this.stretches.get(lost) ?? 0) + 1);
    this.assigned = partitions;
  }
}
