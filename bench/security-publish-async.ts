/**
 * `npm run bench:security`: what the client API's security costs on the publish hot path
 * (docs/benchmarks.md "Security"). Three single-node servers on one nats-server: plaintext, TLS
 * with client certificates, and TLS with client certificates and authorization (Liftbridge's ACL
 * model, the bench's stream allowed). Each round publishes the same messages with PublishAsync
 * (pre-encoded requests, a window of unacknowledged ones) to each server in turn; the table shows
 * the medians and the ratios TLS / plaintext and authorization / TLS; then it reads the round's
 * messages back with one catch-up Subscribe per server. Not a test: it measures.
 *
 *   npm run bench:security -- [--messages 100000] [--rounds 5] [--size 100] [--window 1024]
 */
import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AckPolicy, decodePublishResponse, encodePublishRequest } from '../src/protocol/api-proto';
import { StartPosition } from '../src/protocol/api-types';
import { createApiClient } from '../src/protocol/api-service-definition';
import { PublishPermission } from '../src/adapters/inbound/grpc/authorizing-handlers';
import { CasbinClientAuthorizer } from '../src/adapters/outbound/casbin/casbin-client-authorizer';
import type { Logger } from '../src/application/ports/logger.port';
import { createTestCertificates } from '../test/support/test-certificates';
import { AckWindow } from './support/ack-window';
import { ChildRegistry } from './support/children';
import { startLiftbridge } from './support/liftbridge-server';
import { payload } from './support/messages';
import { startNatsServer } from './support/nats-server';
import { OrphanGuard } from './support/orphan-guard';
import { processCpuMs } from './support/process-cpu';
import { connectRawClient, isPublishAck } from './support/raw-api-client';
import { median } from './support/stats';
import { createStream } from './support/streams';

const MODEL = path.resolve(__dirname, '../test/support/authz/model.conf');

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} needs a positive integer`);
  return value;
}

async function publishAsync(address: string, credentials: grpc.ChannelCredentials, stream: string, total: number, size: number, window: number): Promise<number> {
  const request = encodePublishRequest({ stream, value: payload(size), ackPolicy: AckPolicy.LEADER, correlationId: 'bench', expectedOffset: -1 });
  const client = await connectRawClient(address, credentials);
  try {
    const call = client.publishAsync();
    const pipeline = new AckWindow('PublishAsync', total, window, () => call.write(request));
    call.on('data', (response: Buffer) => {
      if (isPublishAck(response)) return pipeline.ack();
      const decoded = decodePublishResponse(response);
      pipeline.fail(new Error(`PublishAsync refused a message: ${decoded.asyncError?.code} ${decoded.asyncError?.message}`));
    });
    call.on('error', (error: Error) => pipeline.fail(error));
    const elapsedNs = await pipeline.run();
    call.cancel();
    return total / (Number(elapsedNs) / 1e9);
  } finally {
    client.close();
  }
}

/** Unary Publish calls one after the other (each checked in full: identity and permission); msg/s. */
/** Reads `total` messages from the start of `stream` with one Subscribe; messages per second. */
async function subscribeAll(address: string, credentials: grpc.ChannelCredentials, stream: string, total: number): Promise<number> {
  const client = createApiClient(address, credentials);
  try {
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      const call = client.subscribe({ stream, startPosition: StartPosition.EARLIEST });
      let received = -1; // the first message is the empty handshake
      call.on('data', () => {
        if (++received < total) return;
        call.cancel();
        resolve();
      });
      call.on('error', (error: grpc.ServiceError) => {
        if (received < total) reject(error);
      });
    });
    return total / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    client.close();
  }
}

async function publishUnary(address: string, credentials: grpc.ChannelCredentials, stream: string, total: number, size: number): Promise<number> {
  const request = encodePublishRequest({ stream, value: payload(size), ackPolicy: AckPolicy.LEADER, expectedOffset: -1 });
  const client = await connectRawClient(address, credentials);
  try {
    const startedAt = process.hrtime.bigint();
    for (let i = 0; i < total; i++) {
      await new Promise<void>((resolve, reject) =>
        client.publish(request, { deadline: Date.now() + 10_000 }, (error, response) =>
          error || !response || !isPublishAck(response) ? reject(error ?? new Error('unary Publish: no ack')) : resolve(),
        ),
      );
    }
    return total / (Number(process.hrtime.bigint() - startedAt) / 1e9);
  } finally {
    client.close();
  }
}

const SILENT: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => SILENT };

/**
 * In this process, with Liftbridge's example policy: nanoseconds per check as a PublishAsync
 * request pays it (PublishPermission, the last decision kept), per cached decision, and per
 * Casbin evaluation (what an uncached check would cost).
 */
async function checkCosts(): Promise<{ perRequestNs: number; cachedNs: number; casbinNs: number }> {
  const dir = path.resolve(__dirname, '../test/support/authz');
  const authorizer = await CasbinClientAuthorizer.load(
    { modelFile: path.join(dir, 'model.conf'), policyFile: path.join(dir, 'policy.csv'), modelKey: 'model', policyKey: 'policy' },
    SILENT,
  );
  const call = { getAuthContext: () => ({ sslPeerCertificate: { subject: { CN: 'client1' } } as never }) };
  const permission = PublishPermission.of(authorizer, call) as PublishPermission;
  const time = (n: number, body: () => unknown): number => {
    const startedAt = process.hrtime.bigint();
    for (let i = 0; i < n; i++) body();
    return Number(process.hrtime.bigint() - startedAt) / n;
  };
  const best = (f: () => number): number => Math.min(f(), f(), f());
  const enforcer = (authorizer as unknown as { enforcer: { enforceSync(...r: string[]): boolean } }).enforcer;
  return {
    perRequestNs: best(() => time(2_000_000, () => permission.denial('foo'))),
    cachedNs: best(() => time(2_000_000, () => authorizer.isAllowed('client1', 'foo', 'Publish'))),
    casbinNs: best(() => time(20_000, () => enforcer.enforceSync('client1', 'foo', 'Publish'))),
  };
}

async function main(): Promise<void> {
  const total = option('messages', 100_000);
  const rounds = option('rounds', 5);
  const size = option('size', 100);
  const window = option('window', 1024);
  const costs = await checkCosts();
  process.stdout.write(
    `authorization check, in process: ${costs.perRequestNs.toFixed(1)} ns per PublishAsync request, ` +
      `${costs.cachedNs.toFixed(1)} ns per cached decision, ${Math.round(costs.casbinNs).toLocaleString('en-US')} ns per Casbin evaluation\n`,
  );
  const guard = new OrphanGuard();
  const children = new ChildRegistry(guard);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-bench-security-'));
  guard.removeOnOrphan(workDir);
  const certs = createTestCertificates();
  const stop = async (): Promise<void> => {
    await children.stopAll();
    certs.remove();
    fs.rmSync(workDir, { recursive: true, force: true });
    guard.release();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    const nats = await startNatsServer(children, workDir);
    const policy = path.join(workDir, 'policy.csv');
    const streams = Array.from({ length: rounds }, (_, round) => `bench-security-r${round}`);
    fs.writeFileSync(policy, ['p, client1, *, FetchMetadata', ...streams.flatMap((s) => [`p, client1, ${s}, CreateStream`, `p, client1, ${s}, Publish`, `p, client1, ${s}, Subscribe`])].join('\n') + '\n');
    const tlsConfig = (authz: boolean): string => {
      const file = path.join(workDir, authz ? 'authz.yaml' : 'tls.yaml');
      const lines = ['tls:', `  key: ${certs.server.keyFile}`, `  cert: ${certs.server.certFile}`, '  client.auth.enabled: true', `  client.auth.ca: ${certs.caFile}`];
      if (authz) lines.push('  client.authz.enabled: true', `  client.authz.model: ${MODEL}`, `  client.authz.policy: ${policy}`);
      fs.writeFileSync(file, lines.join('\n') + '\n');
      return file;
    };
    const mtls = grpc.credentials.createSsl(certs.ca, certs.client1.key, certs.client1.cert);
    const variants = [
      { name: 'plaintext', credentials: grpc.credentials.createInsecure(), args: [] as string[] },
      { name: 'TLS + client certificates', credentials: mtls, args: ['--config', tlsConfig(false)] },
      { name: 'TLS + client certificates + authorization', credentials: mtls, args: ['--config', tlsConfig(true)] },
    ];
    const servers = [];
    for (const [i, v] of variants.entries()) {
      servers.push(await startLiftbridge(children, workDir, nats.url, { label: `security${i}`, extraArgs: v.args, credentials: v.credentials }));
    }
    const rates: number[][] = variants.map(() => []);
    const unaryRates: number[][] = variants.map(() => []);
    const subscribeRates: number[][] = variants.map(() => []);
    const unaryTotal = Math.max(100, Math.floor(total / 20));
    // Server CPU per PublishAsync message (µs): what the work costs, less swayed than msg/s by other load on the machine.
    const cpuPerMessage: number[][] = variants.map(() => []);
    for (let round = 0; round < rounds; round++) {
      // The order changes every round, so that no variant always runs first on a warm or cold machine.
      for (let k = 0; k < variants.length; k++) {
        const i = (k + round) % variants.length;
        const control = createApiClient(servers[i]!.address, variants[i]!.credentials);
        try {
          // A subject of its own per server: the servers share one nats-server, and a stream of
          // another server on the same subject would store these messages too and answer their
          // acks (the correlation ids are equal), counting as acks of this server.
          await createStream(control, streams[round]!, `bench.security.r${round}.s${i}`);
        } finally {
          control.close();
        }
        const pid = servers[i]!.child.process.pid!;
        const cpuBefore = processCpuMs(pid);
        const rate = await publishAsync(servers[i]!.address, variants[i]!.credentials, streams[round]!, total, size, window);
        const cpuAfter = processCpuMs(pid);
        rates[i]!.push(rate);
        if (cpuBefore !== null && cpuAfter !== null) cpuPerMessage[i]!.push(((cpuAfter - cpuBefore) * 1000) / total);
        const unary = await publishUnary(servers[i]!.address, variants[i]!.credentials, streams[round]!, unaryTotal, size);
        unaryRates[i]!.push(unary);
        const read = await subscribeAll(servers[i]!.address, variants[i]!.credentials, streams[round]!, total);
        subscribeRates[i]!.push(read);
        const cpu = cpuPerMessage[i]!.at(-1);
        process.stderr.write(
          `round ${round + 1}/${rounds} ${variants[i]!.name}: PublishAsync ${Math.round(rate).toLocaleString('en-US')} msg/s` +
            `${cpu === undefined ? '' : ` (${cpu.toFixed(1)} µs server CPU/msg)`}, unary ${Math.round(unary).toLocaleString('en-US')} msg/s, Subscribe ${Math.round(read).toLocaleString('en-US')} msg/s\n`,
        );
      }
    }
    const table = (title: string, values: number[][]): void => {
      const medians = values.map((r) => median(r));
      process.stdout.write(`\n${title}, ${rounds} rounds (medians)\n`);
      for (const [i, v] of variants.entries()) process.stdout.write(`  ${v.name.padEnd(44)} ${Math.round(medians[i]!).toLocaleString('en-US').padStart(9)} msg/s\n`);
      // Also per round (the three runs of a round are back to back): steadier when the machine's load drifts.
      const paired = (a: number, b: number): string => median(values[a]!.map((v, r) => v / values[b]![r]!)).toFixed(2);
      process.stdout.write(
        `  TLS / plaintext: ${(medians[1]! / medians[0]!).toFixed(2)}x (per round ${paired(1, 0)}x); ` +
          `authorization / TLS: ${(medians[2]! / medians[1]!).toFixed(2)}x (per round ${paired(2, 1)}x)\n`,
      );
    };
    table(`PublishAsync, ${size} B, ${total.toLocaleString('en-US')} messages, window ${window}`, rates);
    if (cpuPerMessage.every((c) => c.length === rounds)) {
      const cpu = cpuPerMessage.map((c) => median(c));
      process.stdout.write(`\nserver CPU per PublishAsync message (median of ${rounds} rounds)\n`);
      for (const [i, v] of variants.entries()) process.stdout.write(`  ${v.name.padEnd(44)} ${cpu[i]!.toFixed(1).padStart(9)} µs\n`);
    }
    table(`unary Publish one at a time, ${size} B, ${unaryTotal.toLocaleString('en-US')} messages`, unaryRates);
    table(`catch-up Subscribe, ${size} B, ${total.toLocaleString('en-US')} messages`, subscribeRates);
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:security failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
