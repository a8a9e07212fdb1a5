/**
 * Orphan guard, run by bench/run.ts as a detached child: if the bench dies without cleaning up
 * (SIGKILL, a crash past its handlers), this process SIGKILLs the children the bench registered
 * and removes the bench's work directory. Protocol on stdin, one command a line:
 *   `+<pid>` watch a child, `-<pid>` forget it (it exited), `dir <path>` remove on orphaning,
 *   `release` the bench cleaned up itself: exit without doing anything.
 * The bench's death closes the pipe; that is the trigger.
 */
import * as fs from 'node:fs';

const pids = new Set<number>();
const dirs: string[] = [];
let released = false;
let pending = '';

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    if (line === 'release') released = true;
    else if (line.startsWith('+')) pids.add(Number(line.slice(1)));
    else if (line.startsWith('-')) pids.delete(Number(line.slice(1)));
    else if (line.startsWith('dir ')) dirs.push(line.slice(4));
  }
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function orphaned(): void {
  if (released) process.exit(0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + 5_000;
  const finish = (): void => {
    if ([...pids].some(alive) && Date.now() < deadline) {
      setTimeout(finish, 50);
      return;
    }
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  finish();
}

process.stdin.once('end', orphaned);
process.stdin.once('error', orphaned);
process.on('SIGINT', () => undefined); // a terminal ^C reaches the whole group; the bench decides.
