import { ENTRY_HEADER_BYTES, readEntryMessageBytes } from '../../../src/adapters/codec/message-set-layout';
import type { RecordBatch } from '../../../src/application/ports/partition-log.port';
import { entryEpoch } from './crashable-partition-log';
import type { LogObserver, ReplicaDisk } from './crashable-partition-log';

/** What the checkers read of one replica. */
export interface ObservedReplica {
  readonly id: string;
  readonly disk: ReplicaDisk;
  /** The open log of the live incarnation, or null while down. */
  readonly log: { readonly highWatermark: number; readonly durableOffset: number; readonly newestOffset: number } | null;
}

const describe = (entry: Buffer | undefined): string => (entry === undefined ? 'nothing' : `${entry.length} bytes of epoch ${entryEpoch(entry)}`);

/**
 * The replication checkers. History is kept so each check costs O(change):
 * - `committed`: offset → entry bytes, the first time any replica's high watermark covered it;
 * - `acked`: offset → entry bytes of every ALL-acknowledged record (also committed);
 * - `leaderWrites`: (epoch, offset) → the entry the leader of that epoch made durable;
 * - per replica incarnation: its last high watermark and the prefix already compared.
 * Hooks record the first violation; `check` throws it.
 */
export class ReplicationInvariants implements LogObserver {
  private readonly committed = new Map<number, Buffer>();
  private readonly ackedRecords = new Map<number, Buffer>();
  /** The leader epoch in which each record was acked. */
  private readonly ackedInEpoch = new Map<number, number>();
  private readonly leaderWrites = new Map<string, Buffer>();
  private readonly epochLeader = new Map<number, string>();
  private readonly lastHw = new Map<string, number>();
  private readonly verifiedTo = new Map<string, number>();
  private firstViolation: string | null = null;
  /** Replica of the current leader role, if one runs: it must never truncate. */
  currentLeader: string | null = null;
  truncations = 0;

  constructor(private readonly disks: ReadonlyMap<string, ReplicaDisk>) {}

  get violation(): string | null {
    return this.firstViolation;
  }

  get ackedCount(): number {
    return this.ackedRecords.size;
  }

  get committedCount(): number {
    return this.committed.size;
  }

  /** The newest ALL-acked offset, -1 when none. */
  get ackedMax(): number {
    let max = -1;
    for (const offset of this.ackedRecords.keys()) if (offset > max) max = offset;
    return max;
  }

  private fail(message: string): void {
    this.firstViolation ??= message;
  }

  /**
   * One leader per epoch: `replica` starts leading `epoch`; it must hold every record acked in an
   * earlier epoch. (A role start can complete after the controller moved on; records acked in later
   * epochs are not this leader's to hold — and it cannot ack anything, its followers follow the newer epoch.)
   */
  leaderStarted(replica: string, epoch: number): void {
    const known = this.epochLeader.get(epoch);
    if (known !== undefined && known !== replica) this.fail(`two leaders in epoch ${epoch}: ${known} and ${replica}`);
    this.epochLeader.set(epoch, replica);
    const disk = this.disk(replica);
    for (const [offset, bytes] of this.ackedRecords) {
      if ((this.ackedInEpoch.get(offset) ?? 0) >= epoch) continue;
      const entry = disk.entryAt(offset);
      if (entry === undefined || !entry.equals(bytes)) this.fail(`acked record ${offset} lost: ${replica} leads epoch ${epoch} with ${describe(entry)} there`);
    }
  }

  /** The producer counted an ALL ack for `offset` with these bytes (read from the leader's log). */
  acked(replica: string, offset: number, entry: Buffer | undefined, epoch: number): void {
    if (entry === undefined) return this.fail(`${replica} acked offset ${offset} it does not hold`);
    const before = this.ackedRecords.get(offset);
    if (before !== undefined && !before.equals(entry)) this.fail(`offset ${offset} acked twice with different records (now by ${replica})`);
    this.ackedRecords.set(offset, entry);
    if (!this.ackedInEpoch.has(offset)) this.ackedInEpoch.set(offset, epoch);
    this.compareCommitted(replica, offset, entry);
  }

  leaderDurable(replica: string, epoch: number, firstOffset: number, lastOffset: number): void {
    const disk = this.disk(replica);
    for (let offset = firstOffset; offset <= lastOffset; offset++) {
      const entry = disk.entryAt(offset);
      if (entry === undefined) continue; // cut by a truncation meanwhile: never durable here
      const key = `${epoch}:${offset}`;
      const before = this.leaderWrites.get(key);
      if (before === undefined) this.leaderWrites.set(key, entry);
      else if (!before.equals(entry)) this.fail(`epoch ${epoch} offset ${offset}: ${replica} made a different record durable than before`);
    }
  }

  replicated(replica: string, batch: RecordBatch): void {
    let offset = batch.firstOffset;
    for (let pos = 0; pos < batch.bytes.length; offset++) {
      const size = ENTRY_HEADER_BYTES + readEntryMessageBytes(batch.bytes, pos);
      const entry = batch.bytes.subarray(pos, pos + size);
      pos += size;
      const epoch = entryEpoch(entry);
      const leaders = this.leaderWrites.get(`${epoch}:${offset}`);
      if (leaders === undefined || !leaders.equals(entry)) {
        this.fail(`${replica} received offset ${offset} of epoch ${epoch} that the leader of epoch ${epoch} (${this.epochLeader.get(epoch)}) never made durable`);
      }
    }
  }

  truncated(replica: string, offset: number, highWatermark: number): void {
    this.truncations++;
    if (offset <= highWatermark) this.fail(`${replica} truncated from ${offset}, at or below its high watermark ${highWatermark}`);
    if (replica === this.currentLeader) this.fail(`the current leader ${replica} truncated its log from ${offset}`);
    const verified = this.verifiedTo.get(replica);
    if (verified !== undefined && verified >= offset) this.verifiedTo.set(replica, offset - 1);
  }

  /** A new incarnation of `replica` opened its log. */
  restarted(replica: ObservedReplica): void {
    const log = replica.log;
    if (log === null) return;
    if (log.highWatermark > log.durableOffset) this.fail(`${replica.id} restarted with high watermark ${log.highWatermark} past its durable offset ${log.durableOffset}`);
    this.lastHw.set(replica.id, log.highWatermark);
    this.verifiedTo.set(replica.id, -1);
  }

  /** After every timer instant: high watermarks never decrease; committed prefixes agree everywhere. */
  check(replicas: readonly ObservedReplica[]): void {
    for (const replica of replicas) {
      const log = replica.log;
      if (log === null) continue;
      const hw = log.highWatermark;
      const last = this.lastHw.get(replica.id) ?? -1;
      if (hw < last) this.fail(`${replica.id}'s high watermark went back from ${last} to ${hw}`);
      this.lastHw.set(replica.id, hw);
      if (hw > log.durableOffset) this.fail(`${replica.id}'s high watermark ${hw} is past its durable offset ${log.durableOffset}`);
      const from = (this.verifiedTo.get(replica.id) ?? -1) + 1;
      for (let offset = from; offset <= hw; offset++) this.compareCommitted(replica.id, offset, replica.disk.entryAt(offset));
      if (hw >= from) this.verifiedTo.set(replica.id, hw);
    }
  }

  /** At the end: every acked record is on every replica, and the logs agree up to each high watermark. */
  checkFinal(replicas: readonly ObservedReplica[]): void {
    this.check(replicas);
    for (const replica of replicas) {
      for (const [offset, bytes] of this.ackedRecords) {
        const entry = replica.disk.entryAt(offset);
        if (entry === undefined || !entry.equals(bytes)) this.fail(`at the end ${replica.id} has ${describe(entry)} at acked offset ${offset}`);
      }
    }
  }

  private compareCommitted(replica: string, offset: number, entry: Buffer | undefined): void {
    if (entry === undefined) return this.fail(`${replica} has no record at offset ${offset}, below its high watermark`);
    const known = this.committed.get(offset);
    if (known === undefined) this.committed.set(offset, entry);
    else if (!known.equals(entry)) this.fail(`committed offset ${offset} differs: ${replica} has ${describe(entry)}, committed was ${describe(known)}`);
  }

  private disk(replica: string): ReplicaDisk {
    const disk = this.disks.get(replica);
    if (disk === undefined) throw new Error(`no replica ${replica}`);
    return disk;
  }
}
