import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { BrokerConfig, defaultBrokerConfig } from '../../src/infrastructure/config/broker-config';
import { Broker, BrokerExtensions } from '../../src/infrastructure/lifecycle/broker';
import { createLogger } from '../../src/infrastructure/logging/create-logger';

type DeepPartial<T> = { -readonly [K in keyof T]?: T[K] extends object ? (T[K] extends readonly unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/** Collected log lines of an in-process broker, for assertions on what it reported. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    callback();
  }
}

export interface StartedTestBroker {
  readonly broker: Broker;
  readonly config: BrokerConfig;
  readonly address: string;
  readonly logs: LogCapture;
  stop(): Promise<void>;
  /** Stops and removes the data directory. */
  destroy(): Promise<void>;
}

/** Builds a broker config for tests: temp data dir, gRPC on 127.0.0.1:0, the given NATS, a unique namespace. */
export function testBrokerConfig(natsUrl: string, overrides: DeepPartial<BrokerConfig> = {}): BrokerConfig {
  const base = defaultBrokerConfig();
  const dataDir = overrides.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-'));
  const merge = <T extends object>(a: T, b: DeepPartial<T> | undefined): T => {
    if (!b) return a;
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) {
      const current = (a as Record<string, unknown>)[k];
      out[k] = v && typeof v === 'object' && !Array.isArray(v) && current && typeof current === 'object' ? merge(current as object, v as object) : v;
    }
    return out as T;
  };
  return merge(base, {
    ...overrides,
    dataDir,
    listen: { host: '127.0.0.1', port: 0, ...overrides.listen },
    advertise: { host: '127.0.0.1', port: 0, ...overrides.advertise },
    logging: { level: 'info', ...overrides.logging },
    nats: { servers: [natsUrl], embedded: false, ...overrides.nats },
    clustering: {
      serverId: 'a',
      namespace: `ns${Math.floor(Math.random() * 1e9)}`,
      raftBootstrapSeed: true,
      ...overrides.clustering,
    },
  } as DeepPartial<BrokerConfig>);
}

/** Starts a broker in this process with real NATS, gRPC and files. */
export async function startTestBroker(config: BrokerConfig, extensions: BrokerExtensions = {}): Promise<StartedTestBroker> {
  const logs = new LogCapture();
  const broker = new Broker(config, createLogger(config.logging.level, 'json', logs), extensions);
  await broker.start();
  return {
    broker,
    config,
    address: `127.0.0.1:${broker.port}`,
    logs,
    stop: () => broker.stop(),
    destroy: async () => {
      await broker.stop();
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a broker that is expected to refuse to start: its error message ('started' when it did
 * start, and was stopped) and how long that took. Removes the data directory either way.
 */
export async function refusedStart(config: BrokerConfig): Promise<{ message: string; ms: number }> {
  const startedAt = performance.now();
  try {
    const started = await startTestBroker(config);
    await started.stop();
    return { message: 'started', ms: performance.now() - startedAt };
  } catch (error) {
    return { message: (error as Error).message, ms: performance.now() - startedAt };
  } finally {
    fs.rmSync(config.dataDir, { recursive: true, force: true });
  }
}
