import * as path from 'node:path';
import type { BenchConfig } from '../types';

const repoRoot = path.resolve(__dirname, '../..');

export const USAGE = `Usage: npm run bench -- [--quick] [--runs N] [--messages N]

  --quick        1 run per case and small counts (under a minute)
  --runs N       timed runs per case and size (default 3; --quick: 1)
  --messages N   messages per run of the pipelined publish cases (default 100000; --quick: 5000);
                 core NATS sends 4N, catch-up Subscribe and the gRPC ceiling stream 2N,
                 unary Publish sends N/50 (at least 100)
  --cases A,B    only the cases with these ids (e.g. jetstream-r1,lb-nats-publish); the table
                 then lists only them (ratios need both of their cases)
  --help         this text

Progress goes to stderr, the table to stdout, the results to .tmp/bench-results.json.`;

export class UsageError extends Error {}

function positiveInteger(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} needs a positive integer, got ${value ?? 'nothing'}`);
  return n;
}

/** Parses the bench flags; returns null for --help. */
export function parseArgs(argv: readonly string[]): BenchConfig | null {
  let quick = false;
  let runs: number | undefined;
  let messages: number | undefined;
  let cases: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--runs':
        runs = positiveInteger('--runs', value());
        break;
      case '--messages':
        messages = positiveInteger('--messages', value());
        break;
      case '--cases': {
        const list = (value() ?? '').split(',').map((id) => id.trim()).filter((id) => id !== '');
        if (list.length === 0) throw new UsageError('--cases needs a comma-separated list of case ids');
        cases = list;
        break;
      }
      case '--help':
      case '-h':
        return null;
      default:
        throw new UsageError(`unknown argument ${arg}`);
    }
  }
  const n = messages ?? (quick ? 5_000 : 100_000);
  return {
    quick,
    runs: runs ?? (quick ? 1 : 3),
    sizes: [100, 1024],
    publishCount: n,
    coreCount: 4 * n,
    unaryCount: Math.max(100, Math.floor(n / 50)),
    catchupCount: 2 * n,
    window: 1_000,
    clientWindow: 1_024,
    cases,
    resultsPath: path.join(repoRoot, '.tmp', 'bench-results.json'),
  };
}
