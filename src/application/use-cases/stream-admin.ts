import { inject, injectable } from 'inversify';
import { MetadataCommand } from '../../domain/metadata/metadata-commands';
import { err, ok, Result } from '../../domain/shared/result';
import { StreamConfig } from '../../domain/stream/stream-config';
import { RESERVED_STREAM_PREFIX } from '../../domain/stream/stream-names';
import { ApplicationError } from '../errors/application-errors';
import { MetadataGateway } from '../cluster/metadata-gateway';
import { untilAborted } from '../metadata/operation-deadline';
import { PartitionSupervisor } from '../partitions/partition-supervisor';
import { Clock } from '../ports/clock.port';
import { ValueEncryption } from '../ports/value-encryption.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { unimplementedStreamOption } from './stream-option-support';

export interface CreateStreamRequest {
  readonly name: string;
  readonly subject: string;
  readonly group: string;
  readonly replicationFactor: number;
  readonly partitions: number;
  readonly config: StreamConfig;
}

/** Partitions named in a CreateStream or ResumeStream error about partitions that could not start; the rest are counted. */
const NOT_STARTED_NAMED_MAX = 5;

/**
 * CreateStream, DeleteStream, PauseStream and SetStreamReadonly (docs/protocol.md "Stream administration"): build the command
 * with defaults and the clock, execute it through the gateway (on the controller, or forwarded to it), and wait until this
 * server has acted on it (partitions open and subscribed), so a publish right after it is not lost.
 *
 * When partitions this server should run could not start (their log could not open: out of
 * descriptors, a full disk), CreateStream and ResumeStream answer `PartitionsNotStarted` instead of
 * OK: the change is in the metadata (the stream exists; a retried CreateStream answers that it
 * does), and the partitions are retried until they start (docs/operability.md).
 */
@injectable()
export class StreamAdminHandler {
  constructor(
    @inject(MetadataGateway) private readonly metadata: MetadataGateway,
    @inject(PartitionSupervisor) private readonly supervisor: PartitionSupervisor,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.ValueEncryption) private readonly encryption: ValueEncryption,
  ) {}

  createStream(request: CreateStreamRequest, callSignal?: AbortSignal): Promise<Result<void, ApplicationError>> {
    // Reserved names belong to the internal streams the controller creates (internal-streams.ts).
    if (request.name.startsWith(RESERVED_STREAM_PREFIX)) return Promise.resolve(err({ kind: 'StreamNameReserved', stream: request.name }));
    const missing = unimplementedStreamOption(request.config);
    if (missing) return Promise.resolve(err({ kind: 'StreamOptionNotImplemented', ...missing }));
    const config = this.withEncryptionDefault(request.config);
    if (config.encryption === true && this.encryption.unavailableReason !== null) {
      return Promise.resolve(err({ kind: 'EncryptionUnavailable', reason: this.encryption.unavailableReason }));
    }
    return this.run({
      type: 'CreateStream',
      data: {
        name: request.name,
        subject: request.subject,
        group: request.group,
        replicationFactor: request.replicationFactor === 0 ? 1 : request.replicationFactor,
        partitions: request.partitions === 0 ? 1 : request.partitions,
        config,
        creationTimestampNs: this.clock.nowNs().toString(),
        namespace: this.settings.namespace,
      },
    }, { stream: request.name, action: 'created', partitions: null }, callSignal);
  }

  /**
   * `streams.encryption` is written into the stream when it is created and the request did not say:
   * whether a stream's values are sealed never changes afterwards, so turning the setting on or off
   * later cannot make its stored values unreadable (docs/encryption.md, docs/compatibility.md).
   */
  private withEncryptionDefault(config: StreamConfig): StreamConfig {
    return config.encryption === undefined && this.settings.streamDefaults.encryption ? { ...config, encryption: true } : config;
  }

  deleteStream(name: string, callSignal?: AbortSignal): Promise<Result<void, ApplicationError>> {
    if (name.startsWith('__')) return Promise.resolve(err({ kind: 'StreamNameReserved', stream: name }));
    return this.run({ type: 'DeleteStream', data: { name } }, undefined, callSignal);
  }

  pauseStream(name: string, partitions: readonly number[], resumeAll: boolean, callSignal?: AbortSignal): Promise<Result<void, ApplicationError>> {
    return this.run({ type: 'PauseStream', data: { name, partitions, resumeAll, atNs: this.clock.nowNs().toString() } }, undefined, callSignal);
  }

  resumeStream(name: string, partitions: readonly number[], callSignal?: AbortSignal): Promise<Result<void, ApplicationError>> {
    const starts = { stream: name, action: 'resumed', partitions: partitions.length > 0 ? partitions : null } as const;
    return this.run({ type: 'ResumeStream', data: { name, partitions, atNs: this.clock.nowNs().toString() } }, starts, callSignal);
  }

  setStreamReadonly(name: string, partitions: readonly number[], readonly: boolean, callSignal?: AbortSignal): Promise<Result<void, ApplicationError>> {
    return this.run({ type: 'SetStreamReadonly', data: { name, partitions, readonly, atNs: this.clock.nowNs().toString() } }, undefined, callSignal);
  }

  /**
   * `starts`: the partitions the command starts here (null = all of the stream's), whose failures to
   * start it reports. The metadata change is bounded by the metadata timeout; starting the
   * partitions here (4,096 of them take seconds) by the call itself: `callSignal` aborts when the
   * client's deadline passes or it cancels (docs/architecture.md "The metadata write path").
   */
  private async run(
    command: MetadataCommand,
    starts?: { readonly stream: string; readonly action: 'created' | 'resumed'; readonly partitions: readonly number[] | null },
    callSignal?: AbortSignal,
  ): Promise<Result<void, ApplicationError>> {
    const result = await this.metadata.execute(command);
    if (!result.ok) return result;
    await untilAborted(this.supervisor.settled(), callSignal);
    if (starts === undefined) return ok(undefined);
    const failures = this.supervisor.notStartedOf(starts.stream).filter((f) => starts.partitions === null || starts.partitions.includes(f.ref.partition));
    if (failures.length === 0) return ok(undefined);
    return err({
      kind: 'PartitionsNotStarted',
      stream: starts.stream,
      action: starts.action,
      failures: failures.slice(0, NOT_STARTED_NAMED_MAX).map((f) => ({ partition: f.ref.partition, code: f.code, message: f.message })),
      count: failures.length,
    });
  }
}
