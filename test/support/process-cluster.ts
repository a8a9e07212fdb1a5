import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BrokerProcess } from './broker-process';
import { TestNatsServer } from './nats-server';
import { freePort } from './ports';

/**
 * `liftbridge` processes forming one cluster on a real nats-server, for process-level cluster
 * tests: one data directory and gRPC port per server id, the first id bootstraps as the seed, the
 * others join. `stop()` kills every process it started (by pid), the nats-server, and removes the
 * directories.
 */
export class ProcessCluster<Id extends string> {
  /** The servers running now (a stopped or killed one is removed by the test). */
  readonly running = new Map<Id, BrokerProcess>();
  private readonly everyProcess: BrokerProcess[] = [];

  private constructor(
    readonly ids: readonly Id[],
    readonly nats: TestNatsServer,
    readonly namespace: string,
    private readonly dirs: ReadonlyMap<Id, string>,
    private readonly ports: ReadonlyMap<Id, number>,
  ) {}

  static async create<Id extends string>(ids: readonly Id[], prefix: string): Promise<ProcessCluster<Id>> {
    const nats = await TestNatsServer.start();
    const dirs = new Map<Id, string>();
    const ports = new Map<Id, number>();
    for (const id of ids) {
      dirs.set(id, fs.mkdtempSync(path.join(os.tmpdir(), `lbts-${prefix}-${id}-`)));
      ports.set(id, await freePort());
    }
    return new ProcessCluster(ids, nats, `${prefix}${Math.floor(Math.random() * 1e9)}`, dirs, ports);
  }

  dataDir(id: Id): string {
    return this.dirs.get(id)!;
  }

  args(id: Id): string[] {
    return [
      '--id', id,
      '--namespace', this.namespace,
      '--data-dir', this.dirs.get(id)!,
      '--port', String(this.ports.get(id)!),
      '--nats-servers', this.nats.url,
      ...(id === this.ids[0] ? ['--raft-bootstrap-seed'] : []),
    ];
  }

  /** Starts (or restarts, on its data directory) server `id` and waits until it serves. */
  async start(id: Id, env: NodeJS.ProcessEnv = process.env): Promise<BrokerProcess> {
    const broker = await BrokerProcess.start(this.args(id), this.ports.get(id)!, env);
    this.everyProcess.push(broker);
    this.running.set(id, broker);
    return broker;
  }

  async stop(): Promise<void> {
    for (const p of this.everyProcess) await p.kill();
    this.running.clear();
    await this.nats.stop();
    for (const dir of this.dirs.values()) fs.rmSync(dir, { recursive: true, force: true });
  }
}
