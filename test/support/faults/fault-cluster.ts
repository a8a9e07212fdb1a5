import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiClient, call, connectClient } from '../api-calls';
import { BrokerProcess } from '../broker-process';
import { TestNatsServer } from '../nats-server';
import { freePort, waitFor } from '../ports';
import { FaultProxy } from './fault-proxy';

/**
 * Topology A of the fault suite (docs/reliability.md): one nats-server, three `liftbridge`
 * processes, each reaching NATS through its own fault proxy in the test process, with the
 * fast-fault configuration. Brokers can be stopped (SIGSTOP), killed, restarted and, with
 * `clockControl`, have their wall clock jumped (libfaketime).
 */
export const FAST_FAULT_ENV: Readonly<Record<string, string>> = {
  LIFTBRIDGE_CLUSTERING_REPLICA_MAX_LAG_TIME: '3s',
  LIFTBRIDGE_CLUSTERING_REPLICA_MAX_LEADER_TIMEOUT: '3s',
  LIFTBRIDGE_CLUSTERING_REPLICA_MAX_IDLE_WAIT: '1s',
  LIFTBRIDGE_CLUSTERING_REPLICA_FETCH_TIMEOUT: '1s',
  LIFTBRIDGE_CLUSTERING_BROKER_TIMEOUT: '3s',
  LIFTBRIDGE_CLUSTERING_BROKER_HEARTBEAT_INTERVAL: '500ms',
};

/** libfaketime from Debian's `faketime` package (docs/reliability.md "Where the server reads time, and clock jumps"). */
export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

export interface FaultClusterOptions {
  readonly ids?: readonly string[];
  /** Settings over the fast-fault configuration (LIFTBRIDGE_* variables). */
  readonly env?: Readonly<Record<string, string>>;
  /** Start the brokers under libfaketime so that `jumpClock` can move their wall clock. */
  readonly clockControl?: boolean;
}

export class FaultCluster {
  readonly ids: readonly string[];
  readonly namespace = `flt${Math.floor(Math.random() * 1e9)}`;
  readonly proxies = new Map<string, FaultProxy>();
  private readonly brokers = new Map<string, BrokerProcess>();
  private readonly everyProcess: { readonly id: string; readonly process: BrokerProcess }[] = [];
  private readonly clients = new Map<string, ApiClient>();
  private readonly dirs = new Map<string, string>();
  private readonly ports = new Map<string, number>();
  /** Brokers under SIGSTOP. */
  readonly paused = new Set<string>();
  private natsPaused = false;
  private readonly stopHooks: (() => Promise<void>)[] = [];
  private root = '';

  private constructor(
    public nats: TestNatsServer,
    private readonly options: FaultClusterOptions,
  ) {
    this.ids = options.ids ?? ['a', 'b', 'c'];
  }

  static async start(options: FaultClusterOptions = {}): Promise<FaultCluster> {
    if (options.clockControl && !fs.existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: apt-get install faketime (docs/reliability.md)`);
    const cluster = new FaultCluster(await TestNatsServer.start(), options);
    try {
      await cluster.boot();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  private async boot(): Promise<void> {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-faults-'));
    for (const id of this.ids) {
      this.dirs.set(id, path.join(this.root, id));
      fs.mkdirSync(this.dirs.get(id)!);
      this.ports.set(id, await freePort());
      this.proxies.set(id, await FaultProxy.start(this.nats.port));
      fs.writeFileSync(this.clockFile(id), '+0\n');
    }
    // The seed first, so that the others join it.
    for (const id of this.ids) await this.startBroker(id);
    await waitFor(async () => (await this.brokerCount()) === this.ids.length, 20_000, 'every broker in the metadata');
  }

  private clockFile(id: string): string {
    return path.join(this.root, `${id}.clock`);
  }

  private env(id: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...FAST_FAULT_ENV, ...this.options.env };
    if (this.options.clockControl) {
      // Only CLOCK_REALTIME moves (an NTP step or a wrong RTC), never the monotonic clock; file
      // times stay real; the offset file is read again at most once a second.
      Object.assign(env, {
        LD_PRELOAD: LIBFAKETIME,
        FAKETIME_TIMESTAMP_FILE: this.clockFile(id),
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
        FAKETIME_CACHE_DURATION: '1',
        NO_FAKE_STAT: '1',
      });
    }
    return env;
  }

  private args(id: string): string[] {
    return [
      '--id', id,
      '--namespace', this.namespace,
      '--data-dir', this.dirs.get(id)!,
      '--port', String(this.ports.get(id)!),
      '--nats-servers', this.proxies.get(id)!.url,
      ...(id === this.ids[0] ? ['--raft-bootstrap-seed'] : []),
    ];
  }

  async startBroker(id: string): Promise<void> {
    const broker = await BrokerProcess.start(this.args(id), this.ports.get(id)!, this.env(id));
    this.everyProcess.push({ id, process: broker });
    this.brokers.set(id, broker);
    this.clients.get(id)?.close();
    this.clients.set(id, connectClient(broker.address));
  }

  client(id: string): ApiClient {
    return this.clients.get(id)!;
  }

  broker(id: string): BrokerProcess | undefined {
    return this.brokers.get(id);
  }

  dataDir(id: string): string {
    return this.dirs.get(id)!;
  }

  /** Brokers running, stopped or not (what a client that knows nothing of the faults would try). */
  running(): string[] {
    return this.ids.filter((id) => this.brokers.has(id));
  }

  /** Brokers running and not stopped. */
  awake(): string[] {
    return this.ids.filter((id) => this.brokers.has(id) && !this.paused.has(id));
  }

  private async brokerCount(): Promise<number> {
    for (const id of this.awake()) {
      try {
        return (await call(this.client(id).fetchMetadata, this.client(id), {}, 1000)).brokers.length;
      } catch {
        // next broker
      }
    }
    return 0;
  }

  pause(id: string): void {
    process.kill(this.brokers.get(id)!.pid, 'SIGSTOP');
    this.paused.add(id);
  }

  resume(id: string): void {
    process.kill(this.brokers.get(id)!.pid, 'SIGCONT');
    this.paused.delete(id);
  }

  async kill(id: string): Promise<void> {
    if (this.paused.has(id)) this.resume(id);
    await this.brokers.get(id)?.kill();
    this.brokers.delete(id);
  }

  /** Moves `id`'s wall clock to `offsetSeconds` from the real time (libfaketime; takes ≤ 1 s to apply). */
  jumpClock(id: string, offsetSeconds: number): void {
    if (!this.options.clockControl) throw new Error('the cluster was started without clockControl');
    fs.writeFileSync(this.clockFile(id), `${offsetSeconds >= 0 ? '+' : ''}${offsetSeconds}\n`);
  }

  pauseNats(): void {
    process.kill(this.nats.pid, 'SIGSTOP');
    this.natsPaused = true;
  }

  resumeNats(): void {
    process.kill(this.nats.pid, 'SIGCONT');
    this.natsPaused = false;
  }

  /** kill -9 of nats-server; `restartNats` brings it back on the same port. */
  async killNats(): Promise<void> {
    if (this.natsPaused) this.resumeNats();
    await this.nats.stop();
  }

  async restartNats(): Promise<void> {
    this.nats = await TestNatsServer.start({ port: this.nats.port });
  }

  /** Heals everything the suite can break: proxies pass, stopped processes continue, clocks are true. */
  heal(): void {
    for (const proxy of this.proxies.values()) proxy.setMode({ kind: 'pass' });
    for (const id of [...this.paused]) this.resume(id);
    if (this.natsPaused) this.resumeNats();
    if (this.options.clockControl) for (const id of this.ids) this.jumpClock(id, 0);
  }

  /** Runs `hook` first when the cluster stops (a workload a failed test left running). */
  onStop(hook: () => Promise<void>): void {
    this.stopHooks.push(hook);
  }

  /** Every process stopped, every proxy closed, every directory removed (keep with FAULTS_KEEP=1). */
  async stop(): Promise<void> {
    for (const hook of this.stopHooks) await hook();
    for (const id of [...this.paused]) this.resume(id);
    if (this.natsPaused) this.resumeNats();
    for (const c of this.clients.values()) c.close();
    for (const p of this.everyProcess) await p.process.kill();
    for (const proxy of this.proxies.values()) await proxy.close();
    await this.nats.stop();
    if (this.root && !process.env.FAULTS_KEEP) fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** Parsed JSON log lines of a broker (every process it ran as, in order). */
  logLines(id: string): Record<string, unknown>[] {
    const lines: Record<string, unknown>[] = [];
    for (const p of this.everyProcess) {
      if (p.id !== id) continue;
      for (const line of p.process.logs.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // a line cut by a kill
        }
      }
    }
    return lines;
  }
}

/** One FaultCluster for a spec file: started before its tests, stopped after them (every process, proxy and directory). */
export function useFaultCluster(options: FaultClusterOptions = {}): () => FaultCluster {
  let cluster: FaultCluster | undefined;
  beforeAll(async () => {
    cluster = await FaultCluster.start(options);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => cluster!;
}
