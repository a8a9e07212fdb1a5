import { seededPrng } from '../../../../src/domain/shared/prng';
import { RaftNode } from '../../../../src/domain/consensus/raft/raft-node';
import type { RaftConfig } from '../../../../src/domain/consensus/raft/raft-config';
import type { Entry, NodeId, RaftMessage, Snapshot } from '../../../../src/domain/consensus/raft/raft-message';
import type { HardState } from '../../../../src/domain/consensus/raft/hard-state';
import { EMPTY_HARD_STATE } from '../../../../src/domain/consensus/raft/hard-state';
import type { Ready } from '../../../../src/domain/consensus/raft/ready';

/**
 * A small in-test world for the Raft core: each node has a durable store (hard state + log) and
 * a state machine (the list of applied entries); messages travel through one in-flight list the
 * test controls (deliver in any order, drop, duplicate, cut links). It plays the driver exactly
 * as the Ready contract says: persist, then send, then apply, then advance.
 */

export interface NetworkOptions {
  /** Every node of the world. */
  readonly ids: readonly NodeId[];
  /** The voters every node is configured with (default: all of `ids`); the others can join later. */
  readonly voters?: readonly NodeId[];
  readonly seed?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly appendEntriesMax?: number;
  readonly inflightMessagesMax?: number;
  readonly uncommittedEntriesMax?: number;
  /** Log and hard state each node starts from, as if restarted (for crafted scenarios). */
  readonly persisted?: Readonly<Record<NodeId, { readonly hardState: HardState; readonly entries: readonly Entry[] }>>;
}

export interface DurableStore {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** The log after the snapshot. */
  entries: Entry[];
}

/** The test state machine is the list of applied entries; its snapshot is that list as JSON. */
const encodeState = (applied: readonly Entry[]): string => JSON.stringify(applied);
const decodeState = (snapshot: Snapshot): Entry[] => JSON.parse(String(snapshot.data)) as Entry[];

/** Entries of these terms, indexes from 1: `logOfTerms(1, 1, 2)`. Data is `t<term>i<index>`. */
export const logOfTerms = (...terms: number[]): Entry[] =>
  terms.map((term, i) => ({ index: i + 1, term, type: 'normal', data: `t${term}i${i + 1}` }));

export class RaftTestNetwork {
  readonly ids: readonly NodeId[];
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly stores = new Map<NodeId, DurableStore>();
  /** Each node's state machine: the entries it applied, in order. Rebuilt from the log on restart. */
  readonly applied = new Map<NodeId, Entry[]>();
  inFlight: RaftMessage[] = [];
  readonly crashed = new Set<NodeId>();
  /** Every message that went on the wire (after link filtering), for assertions on traffic. */
  readonly sent: RaftMessage[] = [];
  private readonly cutLinks = new Set<string>();
  private restarts = 0;

  constructor(private readonly options: NetworkOptions) {
    this.ids = options.ids;
    for (const id of options.ids) {
      const persisted = options.persisted?.[id];
      this.stores.set(id, { hardState: persisted?.hardState ?? EMPTY_HARD_STATE, snapshot: null, entries: [...(persisted?.entries ?? [])] });
      this.start(id);
    }
  }

  node(id: NodeId): RaftNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  store(id: NodeId): DurableStore {
    const store = this.stores.get(id);
    if (store === undefined) throw new Error(`no store ${id}`);
    return store;
  }

  appliedBy(id: NodeId): Entry[] {
    return this.applied.get(id) ?? [];
  }

  /** The voters in force on the current leader (or on the first live node). */
  currentVoters(): readonly NodeId[] {
    const source = this.leader() ?? this.ids.find((id) => !this.crashed.has(id));
    return source === undefined ? [] : this.node(source).voters;
  }

  /** Data of the `normal` entries a node applied. */
  appliedData(id: NodeId): unknown[] {
    return this.appliedBy(id)
      .filter((e) => e.type === 'normal')
      .map((e) => e.data);
  }

  config(id: NodeId): RaftConfig {
    const o = this.options;
    return {
      id,
      voters: o.voters ?? o.ids,
      electionTicks: o.electionTicks ?? 10,
      heartbeatTicks: o.heartbeatTicks ?? 1,
      preVote: o.preVote ?? true,
      checkQuorum: o.checkQuorum ?? true,
      prng: seededPrng((o.seed ?? 1) * 1009 + o.ids.indexOf(id) * 7919 + this.restarts * 104729),
      appendEntriesMax: o.appendEntriesMax ?? 64,
      inflightMessagesMax: o.inflightMessagesMax ?? 16,
      entryBytesMax: 1024,
      uncommittedEntriesMax: o.uncommittedEntriesMax ?? 1000,
      committedEntriesPerReadyMax: 64,
    };
  }

  /** Handle one Ready of one node, as a driver does. Returns false when it had none. */
  processReady(id: NodeId): boolean {
    if (this.crashed.has(id)) return false;
    const node = this.node(id);
    const ready = node.ready();
    if (ready === null) return false;
    this.persist(id, ready);
    for (const m of ready.messages) {
      if (this.cutLinks.has(`${m.from}>${m.to}`)) continue;
      this.inFlight.push(m);
      this.sent.push(m);
    }
    const applied = ready.snapshot === undefined ? (this.applied.get(id) ?? []) : decodeState(ready.snapshot);
    for (const entry of ready.committedEntries) {
      if (entry.index !== applied.length + 1) throw new Error(`${id} applies ${entry.index} after ${applied.length}`);
      applied.push(entry);
    }
    this.applied.set(id, applied);
    node.advance(ready);
    return true;
  }

  /**
   * The state machine snapshots everything it applied and the node compacts its log up to there.
   * Returns false when there is nothing new to compact.
   */
  compact(id: NodeId): boolean {
    if (this.crashed.has(id)) return false;
    const node = this.node(id);
    const index = node.status().appliedIndex;
    const applied = this.appliedBy(id);
    if (applied.length !== index) throw new Error(`${id} applied ${applied.length} entries but reports ${index}`);
    if (index <= node.log.snapshotIndex || index > node.log.stableIndex) return false;
    const snapshot = node.compact(index, encodeState(applied));
    const store = this.store(id);
    store.snapshot = snapshot; // persisted before the log is compacted
    store.entries = store.entries.filter((e) => e.index > index);
    return true;
  }

  /** Deliver the in-flight message at `position` (and remove it unless `duplicate`). Dropped if its target is down. */
  deliverAt(position: number, duplicate = false): void {
    const m = this.inFlight[position];
    if (m === undefined) return;
    if (!duplicate) this.inFlight.splice(position, 1);
    if (this.crashed.has(m.to) || this.cutLinks.has(`${m.from}>${m.to}`)) return;
    this.node(m.to).step(m);
  }

  /** Deliver, persist and send until nothing moves (no ticks). */
  stabilize(roundsMax = 10_000): void {
    for (let round = 0; round < roundsMax; round++) {
      let moved = false;
      for (const id of this.ids) while (this.processReady(id)) moved = true;
      while (this.inFlight.length > 0) {
        this.deliverAt(0);
        moved = true;
      }
      if (!moved) return;
    }
    throw new Error('network did not stabilize');
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) if (!this.crashed.has(id)) this.node(id).tick();
  }

  /** Tick every live node once and stabilize, `times` times. */
  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const id of this.ids) this.tick(id);
      this.stabilize();
    }
  }

  campaign(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
  }

  /** Elect `id` (it must be able to win) and settle. */
  elect(id: NodeId): void {
    this.campaign(id);
    if (this.node(id).role !== 'leader') throw new Error(`${id} did not win: ${this.node(id).role}`);
  }

  leaders(): NodeId[] {
    return this.ids.filter((id) => !this.crashed.has(id) && this.node(id).role === 'leader');
  }

  /** The live leader with the highest term, if any. */
  leader(): NodeId | null {
    const leaders = this.leaders().sort((a, b) => this.node(b).term - this.node(a).term);
    return leaders[0] ?? null;
  }

  cut(from: NodeId, to: NodeId): void {
    this.cutLinks.add(`${from}>${to}`);
    this.cutLinks.add(`${to}>${from}`);
  }

  /** Nodes in different groups cannot talk; nodes not named are cut from everybody. */
  partition(...groups: readonly (readonly NodeId[])[]): void {
    this.heal();
    const groupOf = (id: NodeId): number => groups.findIndex((g) => g.includes(id));
    for (const a of this.ids) for (const b of this.ids) if (a !== b && (groupOf(a) === -1 || groupOf(a) !== groupOf(b))) this.cut(a, b);
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) if (other !== id) this.cut(id, other);
  }

  heal(): void {
    this.cutLinks.clear();
  }

  /** Stop a node: it loses everything that is not in its durable store, and messages to it are lost. */
  crash(id: NodeId): void {
    this.crashed.add(id);
    this.nodes.delete(id);
    this.inFlight = this.inFlight.filter((m) => m.to !== id);
  }

  /** Start a node again from its durable store, with a fresh state machine that re-applies from index 1. */
  restart(id: NodeId): void {
    this.crashed.delete(id);
    this.restarts++;
    this.start(id);
  }

  private start(id: NodeId): void {
    const store = this.store(id);
    const { snapshot } = store;
    this.nodes.set(id, new RaftNode(this.config(id), { hardState: store.hardState, snapshot, entries: [...store.entries], appliedIndex: snapshot?.index ?? 0 }));
    this.applied.set(id, snapshot === null ? [] : decodeState(snapshot));
  }

  private persist(id: NodeId, ready: Ready): void {
    const store = this.store(id);
    if (ready.snapshot !== undefined) {
      store.snapshot = ready.snapshot;
      store.entries = [];
    }
    if (ready.hardState !== undefined) store.hardState = ready.hardState;
    const first = ready.entries[0];
    if (first !== undefined) {
      const offset = store.snapshot?.index ?? 0;
      if (first.index <= offset || first.index > offset + store.entries.length + 1) throw new Error(`${id} persists ${first.index} after ${offset}+${store.entries.length}`);
      store.entries = [...store.entries.slice(0, first.index - offset - 1), ...ready.entries];
    }
  }
}
