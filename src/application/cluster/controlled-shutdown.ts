import { inject, injectable } from 'inversify';
import { MetadataCommand, VacateBroker } from '../../domain/metadata/metadata-commands';
import { MetadataService } from '../metadata/metadata-service';
import { minIsrFor } from '../partitions/log-options';
import { PartitionSupervisor } from '../partitions/partition-supervisor';
import { Clock, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { BrokerLiveness } from './broker-liveness';
import { MetadataGateway } from './metadata-gateway';
import type { MetadataRaftGroup } from '../ports/metadata-raft-group.port';

/** How often the end of a controller hand-over is checked. */
const TRANSFER_POLL_MS = 10;
/** A controller hand-over not finished after this long is started again (the core gives up after an election timeout). */
const TRANSFER_RETRY_MS = 1000;
/** Partitions per VacateBroker command: one metadata entry stays well below a NATS message. */
const VACATE_ITEMS_MAX = 256;

/** What a controlled shutdown did (logged by the broker, asserted by tests). */
export interface ControlledShutdownReport {
  /** Why nothing was attempted (a cluster of one, say), or null. */
  readonly skipped: string | null;
  /** Partitions whose leadership moved to another server. */
  readonly handedOver: readonly string[];
  /** Partitions led here that could not be handed over (no other in-sync replica, refused, too slow). */
  readonly kept: readonly string[];
  /** ISRs this server left as a follower. */
  readonly isrsLeft: number;
  /** The controller role: this server did not hold it, handed it to `newController`, or still held it at the end. */
  readonly controller: 'not-held' | 'handed-over' | 'kept';
  readonly newController: string | null;
  /** Stopped early: the deadline passed or the operator asked for a plain stop. */
  readonly interrupted: boolean;
  readonly elapsedMs: number;
  /** How long each step took: partitions moved (and recorded unreachable), controller handed over, roles stopped. */
  readonly stepsMs: { readonly partitions: number; readonly controller: number; readonly roles: number };
}

type Outcome<T> = { readonly kind: 'done'; readonly value: T } | { readonly kind: 'interrupted' };

/**
 * Controlled shutdown (docs/cluster.md, docs/replication.md; Kafka's controlled shutdown is the
 * model): before a server of a cluster stops, it
 * 1. stops announcing itself;
 * 2. stops its follower roles (it starts no role any more) and meanwhile asks the controller, in
 *    one metadata entry (`VacateBroker`, chunked for many partitions),
 *    to record it unreachable (no new replica or leadership goes to it), to move the leadership
 *    of every partition it leads to an in-sync replica, and to take it out of the ISRs it follows
 *    (while minIsr members remain, so AckPolicy ALL publishes stop waiting for it), and waits
 *    until that is applied here;
 * 3. hands the controller role (the metadata Raft leadership) to an up-to-date voter, and waits
 *    for its partition leader roles to have stopped.
 * Every step shares one deadline and stops at once when `interrupt` aborts; what could not be
 * handed over fails over the usual way after the broker timeout.
 */
@injectable()
export class ControlledShutdown {
  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(MetadataGateway) private readonly gateway: MetadataGateway,
    @inject(PartitionSupervisor) private readonly partitions: PartitionSupervisor,
    @inject(BrokerLiveness) private readonly liveness: BrokerLiveness,
    @inject(TOKENS.MetadataRaftGroup) private readonly group: MetadataRaftGroup,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  async run(budgetMs: number, interrupt: AbortSignal): Promise<ControlledShutdownReport> {
    const startedMs = this.clock.nowMs();
    const deadline = startedMs + budgetMs;
    const self = this.settings.serverId;
    const before = this.roles();
    const wasController = this.group.isLeader;
    let interrupted = false;
    const stepsMs = { partitions: 0, controller: 0, roles: 0 };
    const finish = (skipped: string | null = null): ControlledShutdownReport => {
      const after = this.roles();
      const controller = !wasController ? 'not-held' : this.group.isLeader ? 'kept' : 'handed-over';
      return {
        skipped,
        handedOver: before.led.filter((key) => !after.led.includes(key)),
        kept: after.led,
        isrsLeft: before.followed.filter((key) => !after.followed.includes(key)).length,
        controller,
        newController: controller === 'handed-over' ? this.group.leaderId() : null,
        interrupted,
        elapsedMs: this.clock.nowMs() - startedMs,
        stepsMs: { ...stepsMs },
      };
    };
    if (![...this.metadata.state.brokers.values()].some((b) => b.id !== self && b.reachable)) return finish('no other reachable server');
    const step = async <T>(name: keyof typeof stepsMs, work: () => Promise<T>): Promise<void> => {
      interrupted ||= interrupt.aborted;
      if (interrupted) return;
      const stepStartedMs = this.clock.nowMs();
      interrupted = (await this.within(deadline, interrupt, work())).kind === 'interrupted';
      stepsMs[name] += this.clock.nowMs() - stepStartedMs;
    };

    // 1. No heartbeats: they would make the controller record it reachable again.
    this.liveness.stop();
    // 2. One entry per chunk: unreachable, leaderships moved, ISRs left; each applied here. The
    //    follower roles stop meanwhile (an unreachable broker is not re-admitted to an ISR).
    await step('partitions', async () => {
      const followersStopped = this.partitions.drain();
      for (const command of this.vacateCommands()) await this.execute(command, deadline);
      await followersStopped;
    });
    // 3. The controller role; meanwhile the partition leaders here stop, as the new metadata says.
    if (this.group.isLeader && this.group.voters().length > 1) await step('controller', () => this.handOverController(deadline, interrupt));
    await step('roles', () => this.partitions.settled());
    return finish();
  }

  /** Partitions (not paused) this server leads, and those it follows in sync, per the applied metadata. */
  private roles(): { led: string[]; followed: string[] } {
    const self = this.settings.serverId;
    const led: string[] = [];
    const followed: string[] = [];
    for (const stream of this.metadata.state.streams.values()) {
      for (const p of stream.partitions) {
        if (p.paused || !p.isr.includes(self)) continue;
        (p.leader === self ? led : followed).push(`${p.stream}/${p.id}`);
      }
    }
    return { led, followed };
  }

  /** VacateBroker commands for every partition this server leads or follows in sync; at least one (it records us unreachable). */
  private vacateCommands(): VacateBroker[] {
    const self = this.settings.serverId;
    type Lead = VacateBroker['data']['leads'][number];
    type Follow = VacateBroker['data']['follows'][number];
    const items: ({ readonly lead: Lead } | { readonly follow: Follow })[] = [];
    for (const stream of this.metadata.state.streams.values()) {
      for (const p of stream.partitions) {
        if (p.paused || !p.isr.includes(self)) continue;
        const ref = { stream: p.stream, partition: p.id, leaderEpoch: p.leaderEpoch };
        // Kafka removes a broker shutting down from every ISR; we keep it where the ISR would drop
        // below minIsr, so that it stays an election candidate should the leader fail meanwhile.
        if (p.leader !== self) items.push({ follow: { ...ref, isrSizeMin: minIsrFor(stream, this.settings.streamDefaults) } });
        else if (p.isr.length > 1) items.push({ lead: ref });
      }
    }
    const atNs = this.clock.nowNs().toString();
    const commands: VacateBroker[] = [];
    for (let i = 0; i === 0 || i < items.length; i += VACATE_ITEMS_MAX) {
      const chunk = items.slice(i, i + VACATE_ITEMS_MAX);
      const leads = chunk.flatMap((item) => ('lead' in item ? [item.lead] : []));
      const follows = chunk.flatMap((item) => ('follow' in item ? [item.follow] : []));
      commands.push({ type: 'VacateBroker', data: { broker: self, atNs, leads, follows } });
    }
    return commands;
  }

  /** Runs a command through the controller; false (logged) when refused or not done in time. */
  private async execute(command: MetadataCommand, deadline: number): Promise<boolean> {
    const remaining = deadline - this.clock.nowMs();
    if (remaining <= 0) return false;
    try {
      const result = await this.gateway.execute(command, remaining);
      if (!result.ok) this.logger.info({ command: command.type, refused: result.error.kind }, 'controlled shutdown: step refused');
      return result.ok;
    } catch (error) {
      this.logger.warn({ err: error, command: command.type }, 'controlled shutdown: step failed');
      return false;
    }
  }

  /**
   * Hands the metadata Raft leadership to the most up-to-date voter; resolves once this server no
   * longer leads, or at the deadline. The core gives a transfer up after an election timeout
   * (its target did not win), so the transfer is started again after that long.
   */
  private async handOverController(deadline: number, interrupt: AbortSignal): Promise<void> {
    while (this.group.isLeader && this.clock.nowMs() < deadline && !interrupt.aborted) {
      const started = await this.group.transferLeadership(null).catch((error: unknown) => {
        this.logger.warn({ err: error }, 'controlled shutdown: controller hand-over failed');
        return null;
      });
      if (started === null || !started.ok) {
        if (started !== null) this.logger.info({ refused: started.error.kind }, 'controlled shutdown: controller hand-over refused');
        return;
      }
      // Done once another server leads and we have heard from it: the new controller is in place.
      const retryAt = Math.min(deadline, this.clock.nowMs() + TRANSFER_RETRY_MS);
      while ((this.group.isLeader || this.group.leaderId() === null) && this.clock.nowMs() < retryAt && !interrupt.aborted) {
        await new Promise<void>((resolve) => this.scheduler.setTimeout(resolve, TRANSFER_POLL_MS));
      }
    }
  }

  /** `work`, unless the deadline passes or `interrupt` aborts first. */
  private within<T>(deadline: number, interrupt: AbortSignal, work: Promise<T>): Promise<Outcome<T>> {
    if (interrupt.aborted) return Promise.resolve({ kind: 'interrupted' });
    return new Promise((resolve) => {
      const stop = (): void => {
        timer.cancel();
        interrupt.removeEventListener('abort', stop);
        resolve({ kind: 'interrupted' });
      };
      const timer = this.scheduler.setTimeout(stop, Math.max(deadline - this.clock.nowMs(), 0));
      interrupt.addEventListener('abort', stop);
      work.then(
        (value) => {
          timer.cancel();
          interrupt.removeEventListener('abort', stop);
          resolve({ kind: 'done', value });
        },
        (error: unknown) => {
          this.logger.error({ err: error }, 'controlled shutdown: step failed; stopping plainly');
          stop();
        },
      );
    });
  }
}
