import { RaftDriver } from '../../src/application/metadata/raft-driver';
import type { RaftDriverOptions } from '../../src/application/metadata/raft-driver';
import type { Entry, EntryData, NodeId, RaftConfig, RaftStatus } from '../../src/domain/consensus/raft';
import { seededPrng } from '../../src/domain/shared/prng';
import type { Prng } from '../../src/domain/shared/prng';
import { ClusterInvariants } from './cluster-invariants';
import type { ObservedServer } from './cluster-invariants';
import { CrashableRaftStorage, SimulatedDisk } from './crashable-raft-storage';
import { SimulatedNetwork } from './simulated-network';
import type { SimulatedRaftTransport } from './simulated-network';
import { SimulatedScheduler, VirtualClock } from '../support/virtual-clock';

/** The knobs of one simulated cluster, drawn from the seed. */
export interface ClusterOptions {
  readonly ids: readonly NodeId[];
  /** `RaftConfig` without what differs per server (id, voters, prng). */
  readonly raft: Omit<RaftConfig, 'id' | 'voters' | 'prng'>;
  readonly driver: RaftDriverOptions;
  /** Each save becomes durable after a delay drawn from [0, diskLatencyMaxMs]. */
  readonly diskLatencyMaxMs: number;
}

/** One life of one server: its driver and the adapters it was built over; all of it dies in a crash. */
interface Incarnation {
  readonly driver: RaftDriver;
  readonly scheduler: SimulatedScheduler;
  readonly storage: CrashableRaftStorage;
  readonly transport: SimulatedRaftTransport;
  /** The state machine: every committed entry handed to `onCommitted`, noop entries included, in order. */
  readonly applied: Entry[];
  alive: boolean;
}

/**
 * Runs every promise job already queued and every job those queue, then returns: the drivers are
 * idle until the next timer. A `process.nextTick` queued from a promise job runs only once the
 * promise job queue is empty (Node drains it before the tick queue); the leading `await` makes sure
 * we are in a promise job. `RAFT_SIM_FLUSH=immediate` uses a `setImmediate` round trip instead
 * (slower, same result: a cross-check that the flush is complete).
 */
const flushPromiseJobs =
  process.env['RAFT_SIM_FLUSH'] === 'immediate'
    ? (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
    : async (): Promise<void> => {
        await undefined;
        await new Promise<void>((resolve) => process.nextTick(resolve));
      };

/** A bound on timer instants at one virtual time: more means a zero-delay loop. */
const INSTANTS_PER_MS_MAX = 10_000;

/** One simulated server: a disk that survives crashes and at most one live incarnation. */
export class SimulatedServer implements ObservedServer {
  readonly disk: SimulatedDisk;
  incarnation = 0;
  current: Incarnation | null = null;

  constructor(
    readonly id: NodeId,
    invariants: ClusterInvariants,
  ) {
    this.disk = new SimulatedDisk(id, invariants);
  }

  get up(): boolean {
    return this.current !== null;
  }

  status(): RaftStatus | null {
    return this.current?.driver.status() ?? null;
  }

  /** Up, with a save not yet durable: a crash now loses it. */
  get savePending(): boolean {
    return this.current?.storage.savePending ?? false;
  }

  get applied(): readonly Entry[] {
    return this.current?.applied ?? [];
  }
}

/**
 * N servers, each a real `RaftDriver` over a `CrashableRaftStorage` and a `SimulatedRaftTransport`
 * with a `SimulatedScheduler`, all on one `VirtualClock` and one seeded PRNG: the same seed replays
 * the same run. `runFor` fires timers instant by instant, flushing promise jobs after each instant
 * and checking the invariants; `crash` kills an incarnation abruptly (timers, pending fsync and
 * inbound subscription gone) and `restart` builds a new driver over what the disk kept.
 */
export class SimulatedCluster {
  readonly clock = new VirtualClock();
  readonly network: SimulatedNetwork;
  readonly invariants = new ClusterInvariants();
  readonly servers: readonly SimulatedServer[];
  /** Driver failures and broken driver contracts; the simulation stops at the first. */
  readonly failures: string[] = [];
  readonly counts = { crashes: 0, restarts: 0, savesLost: 0, proposals: 0, proposalsAccepted: 0 };
  private readonly traceLines: string[] = [];
  /** The leader already written to the trace, per term. */
  private readonly leaderNoted = new Map<number, NodeId>();

  constructor(
    private readonly prng: Prng,
    private readonly options: ClusterOptions,
  ) {
    this.network = new SimulatedNetwork(this.clock, prng, (message) => this.invariants.sent(message, this.server(message.from).disk));
    this.servers = options.ids.map((id) => new SimulatedServer(id, this.invariants));
  }

  server(id: NodeId): SimulatedServer {
    const server = this.servers.find((s) => s.id === id);
    if (server === undefined) throw new Error(`no simulated server ${id}`);
    return server;
  }

  /** The live leader with the highest term, if any. */
  leader(): SimulatedServer | null {
    let best: { server: SimulatedServer; term: number } | null = null;
    for (const server of this.servers) {
      const status = server.status();
      if (status?.role === 'leader' && (best === null || status.term > best.term)) best = { server, term: status.term };
    }
    return best?.server ?? null;
  }

  /** The last trace lines (crashes, restarts, leaders, faults), for a failure report. */
  get trace(): readonly string[] {
    return this.traceLines;
  }

  note(line: string): void {
    this.traceLines.push(`t=${this.clock.nowMs}ms ${line}`);
    if (this.traceLines.length > 40) this.traceLines.shift();
  }

  /**
   * Builds a new incarnation over the server's disk (also the first start) and starts its driver;
   * the start completes as time runs, since its replay may save. A fresh PRNG for the core comes
   * from the cluster's, so a restart draws new election timeouts, deterministically.
   */
  restart(server: SimulatedServer): void {
    if (server.current !== null) throw new Error(`${server.id} is already up`);
    const scheduler = new SimulatedScheduler(this.clock);
    const storage = new CrashableRaftStorage(server.disk, scheduler, () => this.prng.nextInt(this.options.diskLatencyMaxMs + 1));
    const transport = this.network.connect(server.id);
    const applied: Entry[] = [];
    const config: RaftConfig = { ...this.options.raft, id: server.id, voters: this.options.ids, prng: seededPrng(this.prng.nextUint32()) };
    let incarnation: Incarnation | null = null;
    const driver = new RaftDriver(config, storage, transport, scheduler, this.options.driver, {
      onCommitted: (entries) => {
        if (incarnation?.alive !== true) return;
        const term = driver.status()?.term ?? 0;
        for (const entry of entries) {
          this.invariants.applied(server, applied.length, entry, term);
          applied.push(entry);
        }
      },
      onFailure: (error) => {
        if (incarnation?.alive === true) this.failures.push(`the driver of ${server.id} failed: ${errorText(error)}`);
      },
    });
    incarnation = { driver, scheduler, storage, transport, applied, alive: true };
    server.current = incarnation;
    server.incarnation++;
    if (server.incarnation > 1) this.counts.restarts++;
    const started = incarnation;
    driver.start().then(
      () => {
        // The replay: everything the disk knew committed was handed to the state machine again.
        const commit = driver.persisted?.hardState.commit ?? 0;
        if (started.alive && started.applied.length < commit) this.failures.push(`${server.id} replayed ${started.applied.length} entries at start, its durable commit is ${commit}`);
      },
      (error: unknown) => {
        if (started.alive) this.failures.push(`${server.id} failed to start: ${errorText(error)}`);
      },
    );
  }

  /** Kills the server's incarnation at once: no stop, no flush; a save still pending is lost. */
  crash(server: SimulatedServer): void {
    const incarnation = server.current;
    if (incarnation === null) return;
    incarnation.alive = false;
    incarnation.scheduler.cancelAll();
    incarnation.storage.crash();
    if (incarnation.storage.counts.lost > 0) this.counts.savesLost++;
    void incarnation.transport.close();
    server.current = null;
    this.counts.crashes++;
  }

  /**
   * Proposes `data` through the server's driver; refusals (not leader, too many uncommitted
   * entries, queue full, stopped) are expected. Resolves with whether the leader appended it.
   */
  propose(server: SimulatedServer, data: EntryData): Promise<boolean> {
    const driver = server.current?.driver;
    if (driver === undefined || driver.state !== 'running') return Promise.resolve(false);
    this.counts.proposals++;
    return driver.propose(data).then(
      (result) => {
        if (result.ok) this.counts.proposalsAccepted++;
        return result.ok;
      },
      () => false,
    );
  }

  /**
   * Lets `ms` of virtual time pass (0: only what is due now): fires the timers instant by instant,
   * flushes the promise jobs they started after each instant, and checks the invariants. Throws on
   * the first violation or driver failure.
   */
  async runFor(ms: number): Promise<void> {
    const until = this.clock.nowMs + ms;
    let lastAt = -1;
    let instantsAtLastAt = 0;
    await flushPromiseJobs();
    this.check();
    while (this.clock.runNextInstant(until)) {
      if (this.clock.nowMs === lastAt) {
        if (++instantsAtLastAt > INSTANTS_PER_MS_MAX) throw new Error(`more than ${INSTANTS_PER_MS_MAX} timer instants at ${lastAt} ms: a zero-delay loop`);
      } else {
        lastAt = this.clock.nowMs;
        instantsAtLastAt = 0;
      }
      await flushPromiseJobs();
      this.check();
    }
    this.clock.advanceTo(until);
  }

  /** Throws if a driver failed or an invariant broke; otherwise runs the per-step checks. */
  check(): void {
    const failure = this.invariants.violation ?? this.failures[0];
    if (failure !== undefined) throw new Error(failure);
    this.invariants.checkStep(this.servers);
    for (const server of this.servers) {
      const status = server.status();
      if (status !== null && status.role === 'leader' && this.leaderNoted.get(status.term) !== server.id) {
        this.leaderNoted.set(status.term, server.id);
        this.note(`${server.id} leads term ${status.term}`);
      }
    }
  }
}

const errorText = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error));
