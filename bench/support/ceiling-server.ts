import * as path from 'node:path';
import { ChildRegistry, ManagedChild } from './children';
import { withDeadline } from './deadline';

const repoRoot = path.resolve(__dirname, '../..');

export interface StartedCeilingServer {
  readonly address: string;
  readonly child: ManagedChild;
}

/** Starts bench/grpc-ceiling-server.ts (ts-node, transpile-only) and waits for its LISTENING line. */
export async function startCeilingServer(children: ChildRegistry): Promise<StartedCeilingServer> {
  const script = path.join(repoRoot, 'bench', 'grpc-ceiling-server.ts');
  // stdin is a pipe the child watches: if this process dies, the child's stdin ends and it exits.
  const child = children.spawn('grpc-ceiling-server', process.execPath, ['-r', 'ts-node/register/transpile-only', script], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const listening = new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.process.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const match = /LISTENING (\d+)/.exec(buffered);
      if (match) resolve(Number(match[1]));
    });
    void child.exited.then((exit) => reject(new Error(`grpc-ceiling-server exited (${exit.code ?? exit.signal}) before listening`)));
  });
  try {
    const port = await withDeadline(listening, 30_000, 'grpc-ceiling-server to listen');
    return { address: `127.0.0.1:${port}`, child };
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- grpc-ceiling-server output ---\n${child.logs}`);
  }
}
