import { inject, injectable } from 'inversify';
import { checkCoordinatorReport } from '../../domain/metadata/metadata-decide';
import { CoordinatorWitnesses, recordCoordinatorReport } from '../../domain/group/coordinator-witnesses';
import { ReportGroupCoordinator } from '../../domain/metadata/metadata-commands';
import { MetadataError } from '../../domain/metadata/metadata-errors';
import { MetadataEvent } from '../../domain/metadata/metadata-events';
import { ok, Result } from '../../domain/shared/result';
import { MetadataService } from '../metadata/metadata-service';
import { Clock } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';

/**
 * Group coordinator failover (docs/consumers.md "Coordinator failover"), a controller duty: members'
 * reports that their coordinator is silent are judged against the applied state, counted per group
 * (coordinator-witnesses.ts), and once more than half of the members reported the same generation
 * the group gets a new coordinator (`ChangeGroupCoordinator`). The counts live only on the
 * controller and are dropped when it resigns: members keep reporting to the next one.
 */
@injectable()
export class GroupCoordinatorFailover {
  private readonly witnesses = new Map<string, CoordinatorWitnesses>();

  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  resignController(): void {
    this.witnesses.clear();
  }

  /** A member's report on the controller (forwarded or local); answers with the events of the change, if any. */
  async report(command: ReportGroupCoordinator): Promise<Result<readonly MetadataEvent[], MetadataError>> {
    const state = this.metadata.state;
    for (const id of this.witnesses.keys()) if (!state.groups.has(id)) this.witnesses.delete(id);
    const checked = checkCoordinatorReport(command, state);
    if (!checked.ok) return checked;
    const group = checked.value;
    const d = command.data;
    const members = group.members.map((m) => m.id);
    const counted = recordCoordinatorReport(this.witnesses.get(d.group), d, members, this.clock.nowMs(), this.settings.groups.coordinatorTimeoutMs);
    this.witnesses.set(d.group, counted.witnesses);
    if (!counted.failover) return ok([]);
    this.logger.warn({ group: d.group, coordinator: d.coordinator, epoch: d.epoch, witnesses: counted.witnesses.reportedAtMs.size, members: members.length }, 'group members report their coordinator silent, choosing another');
    const result = await this.metadata.execute({ type: 'ChangeGroupCoordinator', data: { group: d.group, coordinator: d.coordinator, epoch: d.epoch } });
    if (result.ok) this.witnesses.delete(d.group);
    else this.logger.error({ group: d.group, error: result.error }, 'group coordinator not replaced');
    return result;
  }
}
