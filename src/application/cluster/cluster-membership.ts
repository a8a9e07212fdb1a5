import { inject, injectable } from 'inversify';
import { Scheduler } from '../ports/clock.port';
import { ClusterChannel, ControllerUnreachableError } from '../ports/cluster-channel.port';
import { Logger } from '../ports/logger.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { MetadataRaftGroup } from '../ports/metadata-raft-group.port';

/** docs/cluster.md "Start-up": 30 attempts, 1 s apart, each waiting 1 s for the controller. */
export const JOIN_ATTEMPTS = 30;
const JOIN_ATTEMPT_TIMEOUT_MS = 1000;
const JOIN_RETRY_DELAY_MS = 1000;

export class JoinFailedError extends Error {
  constructor(attempts: number, lastError: string) {
    super(`failed to join metadata Raft group after ${attempts} attempts: ${lastError}`);
  }
}

/** Auto-join (docs/cluster.md "Start-up"): a server with no Raft state and no bootstrap flags asks the controller to add it. */
@injectable()
export class ClusterMembership {
  constructor(
    @inject(TOKENS.MetadataRaftGroup) private readonly group: MetadataRaftGroup,
    @inject(TOKENS.ClusterChannel) private readonly channel: ClusterChannel,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  /** Resolves once the controller added this server; rejects with `JoinFailedError` after the last attempt. */
  async join(attempts = JOIN_ATTEMPTS): Promise<void> {
    const id = this.settings.serverId;
    let lastError = 'no attempt made';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.group.voters().includes(id)) return;
      try {
        const error = await this.channel.requestJoin(id, JOIN_ATTEMPT_TIMEOUT_MS);
        if (error === '') {
          this.logger.info({ attempt }, 'joined the metadata Raft group');
          return;
        }
        lastError = error;
      } catch (error) {
        if (!(error instanceof ControllerUnreachableError)) throw error;
        lastError = error.message;
      }
      this.logger.info({ attempt, attempts, reason: lastError }, 'waiting for the controller to add this server');
      if (attempt < attempts) await new Promise<void>((resolve) => this.scheduler.setTimeout(resolve, JOIN_RETRY_DELAY_MS));
    }
    throw new JoinFailedError(attempts, lastError);
  }
}
