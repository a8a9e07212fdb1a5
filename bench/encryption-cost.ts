/**
 * Encryption at rest, what it costs (docs/encryption.md "Cost"): two liftbridge-ts servers on one
 * nats-server, alike except that one runs with `streams.encryption: true` (every stream it creates
 * is sealed); the PublishAsync and catch-up Subscribe cases of `npm run bench` run against each in
 * alternating rounds, and the median ratio sealed/clear is printed per size. Needs `npm run build`.
 *
 *   node -r ts-node/register/transpile-only bench/encryption-cost.ts [rounds=3] [messages=50000]
 */
import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createApiClient, type ApiClient } from '../src/protocol/api-service-definition';
import { liftbridgeCatchupSubscribeCase } from './cases/liftbridge-catchup-subscribe';
import { liftbridgePublishAsyncCase } from './cases/liftbridge-publish-async';
import { ChildRegistry } from './support/children';
import { startLiftbridge } from './support/liftbridge-server';
import { startNatsServer } from './support/nats-server';
import { OrphanGuard } from './support/orphan-guard';
import type { BenchCase, BenchConfig, BenchContext } from './types';

const rounds = Number(process.argv[2] ?? 3);
const messages = Number(process.argv[3] ?? 50_000);
const SIZES = [100, 1024];
const CASES: readonly BenchCase[] = [liftbridgePublishAsyncCase, liftbridgeCatchupSubscribeCase];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const guard = new OrphanGuard();
  const children = new ChildRegistry(guard);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-enc-bench-'));
  guard.removeOnOrphan(workDir);
  const clients: ApiClient[] = [];
  try {
    const nats = await startNatsServer(children, workDir);
    const clear = await startLiftbridge(children, workDir, nats.url, { label: 'clear' });
    // The environment the child inherits: every stream of this server is sealed under this key.
    process.env.LIFTBRIDGE_STREAMS_ENCRYPTION = 'true';
    process.env.LIFTBRIDGE_ENCRYPTION_KEY = 'bench-master-key-of-32-bytes-!!!';
    const sealed = await startLiftbridge(children, workDir, nats.url, { label: 'sealed' });
    delete process.env.LIFTBRIDGE_STREAMS_ENCRYPTION;
    delete process.env.LIFTBRIDGE_ENCRYPTION_KEY;
    const config: BenchConfig = {
      quick: false, runs: rounds, sizes: SIZES, publishCount: messages, coreCount: messages, unaryCount: 0, catchupCount: messages,
      window: 1000, clientWindow: 1000, resultsPath: '',
    };
    const contextFor = (address: string): BenchContext => {
      const control = createApiClient(address, grpc.credentials.createInsecure());
      clients.push(control);
      return {
        config, natsUrl: nats.url, liftbridgeAddress: address, ceilingAddress: '', control,
        metricsOff: { address, control }, metricsOnTwin: { address, control }, cluster: null, jetStreamCluster: null, children,
        progress: (line) => void process.stderr.write(`${line}\n`),
      };
    };
    const targets = { clear: contextFor(clear.address), sealed: contextFor(sealed.address) };
    const rates: Record<string, number[]> = {};
    for (const size of SIZES) {
      for (let run = 0; run < rounds; run++) {
        // Alternate which server goes first, so that drift of the machine's load favours neither.
        const order = run % 2 === 0 ? (['clear', 'sealed'] as const) : (['sealed', 'clear'] as const);
        for (const c of CASES) {
          for (const target of order) {
            const sample = await c.run(targets[target], size, run);
            const rate = sample.messages / sample.seconds;
            (rates[`${c.id} ${size} ${target}`] ??= []).push(rate);
            process.stderr.write(`${c.id} ${size} B run ${run} ${target}: ${Math.round(rate)} msgs/s\n`);
          }
        }
      }
    }
    process.stdout.write('| case | size | clear msgs/s | sealed msgs/s | ratio | median of per-round ratios |\n|---|---|---|---|---|---|\n');
    for (const c of CASES) {
      for (const size of SIZES) {
        const clearRates = rates[`${c.id} ${size} clear`]!;
        const sealedRates = rates[`${c.id} ${size} sealed`]!;
        const clearRate = median(clearRates);
        const sealedRate = median(sealedRates);
        const perRound = median(sealedRates.map((r, i) => r / clearRates[i]!));
        process.stdout.write(
          `| ${c.title} | ${size} B | ${Math.round(clearRate)} | ${Math.round(sealedRate)} | ${(sealedRate / clearRate).toFixed(2)} | ${perRound.toFixed(2)} |\n`,
        );
      }
    }
  } finally {
    for (const c of clients) c.close();
    await children.stopAll();
    fs.rmSync(workDir, { recursive: true, force: true });
    guard.release();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
