import { spawn } from 'node:child_process';
import * as path from 'node:path';

const { liftbridgeNodeFlags } = require('../../scripts/node-flags.js') as { liftbridgeNodeFlags(): string[] };
const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin', 'liftbridge.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the `liftbridge` executable (compiled dist) with its own node flags, as `npx liftbridge`
 * does, asynchronously: a broker may run in this process, so never block it.
 */
export function runCli(args: readonly string[], input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...liftbridgeNodeFlags(), bin, ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
