import { CoordinatorWitnesses, recordCoordinatorReport } from '../../../src/domain/group/coordinator-witnesses';
import { applyProposal } from '../../../src/domain/metadata/apply-proposal';
import { MetadataCommand } from '../../../src/domain/metadata/metadata-commands';
import { decide } from '../../../src/domain/metadata/metadata-decide';
import { Decision } from '../../../src/domain/metadata/metadata-proposal';
import { emptyMetadataState, MetadataState } from '../../../src/domain/metadata/metadata-state';
import { Mulberry32Prng, Prng } from '../../../src/domain/shared/prng';
import { VirtualClock } from '../../support/virtual-clock';
import { GroupInvariants } from './group-invariants';
import { GroupModel } from './group-model';

export const STEPS_PER_SEED = 150;
const CONSUMER_TIMEOUT_MS = 15_000;
const COORDINATOR_TIMEOUT_MS = 15_000;
const BROKERS = ['a', 'b', 'c'];
const GROUPS = ['g1', 'g2'];
const CONSUMERS = ['c1', 'c2', 'c3', 'c4', 'c5'];
const STREAMS: Readonly<Record<string, number>> = { s1: 3, s2: 2, s3: 4, s4: 1 };

export interface SimulationSummary {
  applied: number;
  rejected: number;
  refused: number;
  joins: number;
  leaves: number;
  expired: number;
  coordinatorChanges: number;
  streamsDeleted: number;
}

/** A decision taken on an older state, applied later: the race the expectations must settle. */
interface Held {
  readonly command: MetadataCommand;
  readonly decision: Decision;
}

/**
 * Consumer groups driven through decide/applyProposal as the controller would, with stale
 * decisions applied late, members that crash and expire on a virtual clock, coordinators that go
 * silent and are replaced on their members' reports (docs/simulation.md "Consumer groups").
 */
class GroupSimulation {
  private state: MetadataState = emptyMetadataState();
  private readonly model = new GroupModel();
  private readonly invariants = new GroupInvariants();
  private readonly clock = new VirtualClock();
  private readonly held: Held[] = [];
  private readonly silentBrokers = new Set<string>();
  /** `group/consumer` of members whose process died: they stop heartbeating and reporting. */
  private readonly crashed = new Set<string>();
  private readonly witnesses = new Map<string, CoordinatorWitnesses>();
  readonly summary: SimulationSummary = { applied: 0, rejected: 0, refused: 0, joins: 0, leaves: 0, expired: 0, coordinatorChanges: 0, streamsDeleted: 0 };

  constructor(private readonly random: Prng) {
    for (const id of BROKERS) this.run({ type: 'RegisterBroker', data: { id, host: 'h', port: 1 } });
    for (const name of Object.keys(STREAMS)) this.createStream(name);
    // Every live member reports a silent coordinator on its poll (docs/consumers.md "Coordinator failover").
    this.clock.schedule(() => this.reportSilentCoordinators(), COORDINATOR_TIMEOUT_MS / 3, COORDINATOR_TIMEOUT_MS / 3);
  }

  step(): void {
    const pick = this.random.nextInt(100);
    if (pick < 25) this.act(this.randomJoin());
    else if (pick < 35) this.act(this.randomLeave());
    else if (pick < 42) this.crashMember();
    else if (pick < 47) this.toggleBroker();
    else if (pick < 51) this.act(this.randomStreamChange());
    else if (pick < 70) this.applyHeld();
    else this.clock.runNextInstant(this.clock.nowMs + 1 + this.random.nextInt(10_000)) || this.clock.advanceTo(this.clock.nowMs + 1);
    this.invariants.check(this.state, this.model);
  }

  /** Decides now and applies now, or (one time in three) holds the decision to apply it later. */
  private act(command: MetadataCommand | undefined): void {
    if (command === undefined) return;
    if (this.random.nextInt(3) === 0) {
      const decided = decide(command, this.state);
      if (decided.ok) this.held.push({ command, decision: decided.value });
      else this.summary.refused++;
      return;
    }
    this.run(command);
  }

  /** Decides and applies; true when the entry applied. */
  private run(command: MetadataCommand): boolean {
    const decided = decide(command, this.state);
    if (!decided.ok) {
      this.summary.refused++;
      return false;
    }
    return this.apply({ command, decision: decided.value });
  }

  private applyHeld(): void {
    if (this.held.length === 0) return;
    const [late] = this.held.splice(this.random.nextInt(this.held.length), 1);
    this.apply(late!);
  }

  private apply(entry: Held): boolean {
    // Raft no-ops and other entries leave gaps between the indexes of metadata entries.
    const index = this.state.lastAppliedIndex + 1 + this.random.nextInt(3);
    const { state, outcome } = applyProposal(this.state, { proposalId: String(index), ...entry.decision }, index);
    this.state = state;
    if (outcome.kind === 'rejected') {
      this.summary.rejected++;
      return false;
    }
    this.summary.applied++;
    this.model.applied(entry.command);
    this.count(entry.command);
    return true;
  }

  private count(command: MetadataCommand): void {
    if (command.type === 'JoinConsumerGroup') this.summary.joins++;
    if (command.type === 'LeaveConsumerGroup') this.summary[command.data.expired ? 'expired' : 'leaves']++;
    if (command.type === 'ChangeGroupCoordinator') this.summary.coordinatorChanges++;
    if (command.type === 'DeleteStream') this.summary.streamsDeleted++;
    if (command.type === 'JoinConsumerGroup') this.crashed.delete(`${command.data.group}/${command.data.consumer}`);
  }

  private randomJoin(): MetadataCommand {
    const streams = Object.keys(STREAMS).filter(() => this.random.nextInt(2) === 0);
    if (streams.length === 0) streams.push(this.pickOf(Object.keys(STREAMS)));
    return { type: 'JoinConsumerGroup', data: { group: this.pickOf(GROUPS), consumer: this.pickOf(CONSUMERS), streams } };
  }

  private randomLeave(): MetadataCommand | undefined {
    const group = this.pickOf(GROUPS);
    const members = this.model.membersOf(group);
    if (members.length === 0) return undefined;
    return { type: 'LeaveConsumerGroup', data: { group, consumer: this.pickOf(members).id, expired: false } };
  }

  /** A member's process dies: its coordinator expires it after the consumer timeout, if it still hears nothing. */
  private crashMember(): void {
    const group = this.pickOf(GROUPS);
    const members = this.model.membersOf(group);
    if (members.length === 0) return;
    const consumer = this.pickOf(members).id;
    const key = `${group}/${consumer}`;
    this.crashed.add(key);
    this.clock.schedule(() => {
      const coordinator = this.state.groups.get(group)?.coordinator;
      if (!this.crashed.has(key) || coordinator === undefined || this.silentBrokers.has(coordinator)) return;
      this.act({ type: 'LeaveConsumerGroup', data: { group, consumer, expired: true } });
    }, CONSUMER_TIMEOUT_MS, null);
  }

  private toggleBroker(): void {
    const broker = this.pickOf(BROKERS);
    if (this.silentBrokers.has(broker)) this.silentBrokers.delete(broker);
    else if (this.silentBrokers.size < BROKERS.length - 1) this.silentBrokers.add(broker);
  }

  private randomStreamChange(): MetadataCommand {
    const name = this.pickOf(Object.keys(STREAMS));
    if (this.state.streams.has(name)) return { type: 'DeleteStream', data: { name } };
    return this.createStreamCommand(name);
  }

  private createStream(name: string): void {
    this.run(this.createStreamCommand(name));
  }

  private createStreamCommand(name: string): MetadataCommand {
    return {
      type: 'CreateStream',
      data: { name, subject: name, group: '', replicationFactor: 1, partitions: STREAMS[name]!, config: {}, creationTimestampNs: '1', namespace: 'ns' },
    };
  }

  /** Each live member of a group whose coordinator is silent reports it; enough witnesses change the coordinator. */
  private reportSilentCoordinators(): void {
    for (const group of this.state.groups.values()) {
      if (!this.silentBrokers.has(group.coordinator)) {
        this.witnesses.delete(group.id);
        continue;
      }
      for (const member of group.members) {
        if (this.crashed.has(`${group.id}/${member.id}`)) continue;
        const report: MetadataCommand = { type: 'ReportGroupCoordinator', data: { group: group.id, consumer: member.id, coordinator: group.coordinator, epoch: group.epoch } };
        if (!decide(report, this.state).ok) continue;
        const counted = recordCoordinatorReport(this.witnesses.get(group.id), report.data, group.members.map((m) => m.id), this.clock.nowMs, COORDINATOR_TIMEOUT_MS);
        this.witnesses.set(group.id, counted.witnesses);
        if (counted.failover) {
          this.witnesses.delete(group.id);
          this.act({ type: 'ChangeGroupCoordinator', data: { group: group.id, coordinator: group.coordinator, epoch: group.epoch } });
          break;
        }
      }
    }
  }

  private pickOf<T>(items: readonly T[]): T {
    return items[this.random.nextInt(items.length)]!;
  }
}

export function simulateSeed(seed: number, steps = STEPS_PER_SEED): SimulationSummary {
  const simulation = new GroupSimulation(new Mulberry32Prng(seed));
  for (let i = 0; i < steps; i++) {
    try {
      simulation.step();
    } catch (error) {
      throw new Error(`step ${i}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  return simulation.summary;
}
