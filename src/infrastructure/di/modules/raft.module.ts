import { ContainerModule } from 'inversify';
import { ContactTrackingRaftTransport } from '../../../application/cluster/contact-tracking-raft-transport';
import { RaftMetadataLog } from '../../../application/metadata/raft-metadata-log';
import type { Logger } from '../../../application/ports/logger.port';
import { MetadataRaftGroup } from '../../../application/ports/metadata-raft-group.port';
import type { RaftTransport } from '../../../application/ports/raft-transport.port';
import { TOKENS } from '../../../application/tokens';
import { FilesystemRaftStorage } from '../../../adapters/outbound/filesystem/raft/filesystem-raft-storage';
import { seededPrng } from '../../../domain/shared/prng';
import type { RaftBootstrapPlan } from '../../lifecycle/raft-bootstrap';
import { metadataRaftSettings } from '../../lifecycle/raft-settings';

export interface RaftGroupOptions {
  /** `<data.dir>/raft`: the group's entries, hard state and snapshots. */
  readonly dir: string;
  readonly plan: RaftBootstrapPlan;
  /** Opened and ready before the container is built (its subscription is live). */
  readonly transport: RaftTransport;
  /** `clustering.raft.seed`: seeds the election timers; drawn at random when not set, and logged either way. */
  readonly seed: number | null;
  readonly snapshotThreshold: number;
  /** The raft component's logger (`logging.raft` raises its lines). */
  readonly logger: Logger;
}

/** The metadata log replicated by Raft, seen as the group the cluster services steer. */
export function raftGroupOf(log: RaftMetadataLog): MetadataRaftGroup {
  return {
    get isLeader() {
      return log.isLeader;
    },
    leadership$: log.leadership$,
    leaderId: () => log.status()?.leaderId ?? null,
    voters: () => log.voters(),
    addVoter: (serverId) => log.addVoter(serverId),
    campaign: () => log.driver.campaign(),
    transferLeadership: (to) => log.transferLeadership(to),
  };
}

/**
 * The metadata Raft group (docs/raft.md): its storage under the data directory, its transport
 * remembering when each peer was last heard (the ack lease), and the log, driven by the one bound
 * `Scheduler` and `Clock`.
 */
export const raftModule = (options: RaftGroupOptions): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(ContactTrackingRaftTransport)
      .toDynamicValue((ctx) => new ContactTrackingRaftTransport(options.transport, ctx.get(TOKENS.Clock), ctx.get(TOKENS.ServerSettings).ackLeaseMs))
      .inSingletonScope();
    bind(TOKENS.PeerContact).toService(ContactTrackingRaftTransport);
    bind(FilesystemRaftStorage)
      .toDynamicValue(() => new FilesystemRaftStorage({ dir: options.dir, logger: options.logger }))
      .inSingletonScope();
    bind(RaftMetadataLog)
      .toDynamicValue((ctx) => {
        const settings = ctx.get(TOKENS.ServerSettings);
        const metrics = ctx.get(TOKENS.Metrics);
        // Logged, so that a run's election timing can be replayed with clustering.raft.seed.
        const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
        ctx.get(TOKENS.Logger).info({ seed }, 'raft timers seeded');
        const raft = metadataRaftSettings(settings.serverId, options.plan.voters, { snapshotThreshold: options.snapshotThreshold, prng: seededPrng(seed) });
        return new RaftMetadataLog(
          {
            config: raft.config,
            storage: ctx.get(FilesystemRaftStorage),
            transport: ctx.get(ContactTrackingRaftTransport),
            scheduler: ctx.get(TOKENS.Scheduler),
            logger: options.logger,
            onStorageIoError: (error) => metrics.storageIoError('metadata-log', error.code),
          },
          raft.options,
        );
      })
      .inSingletonScope();
    bind(TOKENS.MetadataLog).toService(RaftMetadataLog);
    bind(TOKENS.MetadataRaftGroup).toDynamicValue((ctx) => raftGroupOf(ctx.get(RaftMetadataLog))).inSingletonScope();
  });
