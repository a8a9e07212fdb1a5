import { inject, injectable, optional } from 'inversify';
import { StreamConfig } from '../../domain/stream/stream-config';
import { internalStreamSubject } from '../../domain/stream/stream-names';
import { MetadataGateway } from './metadata-gateway';
import { MetadataService } from '../metadata/metadata-service';
import type { MetadataRaftGroup } from '../ports/metadata-raft-group.port';
import { Cancellable, Clock, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';

/** A stream the controller keeps in existence (docs/consumers.md "Cursors"). */
export interface InternalStreamSpec {
  /** Reserved name, `__` + the subject's last token. */
  readonly name: string;
  readonly partitions: number;
  /** -1 = every server at creation time. */
  readonly replicationFactor: number;
  readonly config: StreamConfig;
}

/** The stream of cursors. Retention is unlimited: the latest record of a cursor must never be dropped (docs/consumers.md "Cursors"). */
export const CURSORS_STREAM = '__cursors';

/** The stream of metadata activity events (activity-dispatcher.ts). */
export const ACTIVITY_STREAM = '__activity';

/** The internal streams this server's configuration asks for. */
export function internalStreamSpecs(settings: ServerSettings): InternalStreamSpec[] {
  const specs: InternalStreamSpec[] = [];
  if (settings.cursors.partitions > 0) {
    specs.push({
      name: CURSORS_STREAM,
      partitions: settings.cursors.partitions,
      replicationFactor: settings.cursors.replicationFactor,
      config: {
        retentionMaxBytes: 0,
        retentionMaxMessages: 0,
        retentionMaxAgeMs: 0,
        autoPauseTimeMs: settings.cursors.autoPauseTimeMs,
        autoPauseDisableIfSubscribers: true,
        encryption: false,
      },
    });
  }
  if (settings.activity !== undefined) {
    // One partition on every server, as Liftbridge's; retention by the server defaults (docs/consumers.md "Activity stream").
    specs.push({ name: ACTIVITY_STREAM, partitions: 1, replicationFactor: -1, config: { encryption: false } });
  }
  return specs;
}

/** Retry delays of a failed creation: 1 s doubling up to 10 s. */
export const INTERNAL_STREAM_RETRY_MS = [1000, 2000, 4000, 8000, 10000] as const;
/**
 * A stream on every server (replication factor -1) waits this many attempts (about 15 s) for every
 * voter of the metadata group to register, so that a controller elected before the others joined
 * does not create it on itself alone; after that it is created on the servers registered.
 */
export const EVERY_SERVER_WAIT_ATTEMPTS = 4;

/**
 * A controller duty: while this server is the controller, each configured internal stream is
 * created if it does not exist, through the normal CreateStream metadata command (an existing
 * stream is success), retried with back-off while it fails; resigning stops the retries.
 */
@injectable()
export class InternalStreams {
  private term = 0;
  private readonly timers = new Set<Cancellable>();
  private readonly specs: readonly InternalStreamSpec[];

  constructor(
    @inject(MetadataGateway) private readonly gateway: MetadataGateway,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(MetadataService) private readonly metadata: MetadataService,
    /** Absent without a Raft group (a single in-memory server): every server is this one. */
    @inject(TOKENS.MetadataRaftGroup) @optional() private readonly group?: MetadataRaftGroup,
  ) {
    this.specs = internalStreamSpecs(settings);
  }

  becomeController(): void {
    const term = ++this.term;
    for (const spec of this.specs) void this.ensure(spec, term, 0);
  }

  resignController(): void {
    this.term++;
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
  }

  private async ensure(spec: InternalStreamSpec, term: number, attempt: number): Promise<void> {
    if (term !== this.term) return;
    const missing = spec.replicationFactor === -1 && attempt < EVERY_SERVER_WAIT_ATTEMPTS ? this.unregisteredVoters() : [];
    const failure = missing.length > 0 ? `waiting for every server to register (not yet: ${missing.join(', ')})` : await this.create(spec);
    if (failure === null || term !== this.term) return;
    const delay = INTERNAL_STREAM_RETRY_MS[Math.min(attempt, INTERNAL_STREAM_RETRY_MS.length - 1)]!;
    this.logger.warn({ stream: spec.name, reason: failure, retryInMs: delay }, 'could not create internal stream; trying again');
    const timer = this.scheduler.setTimeout(() => {
      this.timers.delete(timer);
      void this.ensure(spec, term, attempt + 1);
    }, delay);
    this.timers.add(timer);
  }

  /** Creates the stream; null when it exists now, else why not. */
  private async create(spec: InternalStreamSpec): Promise<string | null> {
    try {
      const result = await this.gateway.execute({
        type: 'CreateStream',
        data: {
          name: spec.name,
          subject: internalStreamSubject(this.settings.namespace, spec.name),
          group: '',
          replicationFactor: spec.replicationFactor,
          partitions: spec.partitions,
          config: spec.config,
          creationTimestampNs: this.clock.nowNs().toString(),
          namespace: this.settings.namespace,
        },
      });
      if (result.ok) {
        this.logger.info({ stream: spec.name, partitions: spec.partitions }, 'internal stream created');
        return null;
      }
      if (result.error.kind !== 'StreamAlreadyExists') return result.error.kind;
      this.warnIfConfigDiffers(spec);
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /**
   * An internal stream's config is fixed when it is created: a setting changed since then (say
   * cursors.stream.auto.pause.time) cannot apply, and is said so rather than ignored silently.
   */
  private warnIfConfigDiffers(spec: InternalStreamSpec): void {
    const existing = this.metadata.state.streams.get(spec.name)?.config;
    if (existing === undefined) return;
    const differing = (Object.keys(spec.config) as (keyof StreamConfig)[]).filter((k) => existing[k] !== spec.config[k]);
    if (differing.length > 0) {
      this.logger.warn({ stream: spec.name, fields: differing, configured: spec.config, inForce: existing }, 'internal stream exists with other settings; they were fixed when it was created and stay as they are');
    }
  }

  /** Voters of the metadata group that are not registered and reachable brokers yet. */
  private unregisteredVoters(): string[] {
    const brokers = this.metadata.state.brokers;
    return (this.group?.voters() ?? []).filter((id) => brokers.get(id)?.reachable !== true);
  }
}
