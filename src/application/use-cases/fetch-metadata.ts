import { inject, injectable } from 'inversify';
import { PartitionState } from '../../domain/partition/partition-state';
import { brokerLoads } from '../../domain/partition/replica-assignment';
import { err, ok, Result } from '../../domain/shared/result';
import { ApplicationError } from '../errors/application-errors';
import { MetadataService } from '../metadata/metadata-service';
import { PartitionSupervisor } from '../partitions/partition-supervisor';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';

export interface BrokerView {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly partitionCount: number;
  readonly leaderCount: number;
}

export interface EventTimestampsView {
  readonly firstNs: bigint;
  readonly latestNs: bigint;
}

export interface PartitionView {
  readonly id: number;
  readonly leader: string;
  readonly replicas: readonly string[];
  readonly isr: readonly string[];
  readonly highWatermark: number;
  readonly newestOffset: number;
  readonly paused: boolean;
  readonly readonly: boolean;
  readonly messagesReceivedTimestamps: EventTimestampsView;
  readonly pauseTimestamps: EventTimestampsView;
  readonly readonlyTimestamps: EventTimestampsView;
}

export type StreamView =
  | { readonly kind: 'known'; readonly name: string; readonly subject: string; readonly creationTimestampNs: bigint; readonly partitions: readonly PartitionView[] }
  | { readonly kind: 'unknown'; readonly name: string };

/** A consumer group as FetchMetadata answers it: its coordinator and epoch, or unknown. */
export type GroupView =
  | { readonly kind: 'known'; readonly id: string; readonly coordinator: string; readonly epoch: number }
  | { readonly kind: 'unknown'; readonly id: string };

/** FetchMetadata and FetchPartitionMetadata (docs/protocol.md "FetchMetadata", "FetchPartitionMetadata"), from this server's local view. */
@injectable()
export class FetchMetadataQuery {
  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(PartitionSupervisor) private readonly partitions: PartitionSupervisor,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
  ) {}

  brokers(): BrokerView[] {
    const state = this.metadata.state;
    const loads = brokerLoads(state);
    // Like Liftbridge (only brokers answering ServerInfo) and Kafka (live brokers): unreachable ones are left out.
    return [...state.brokers.values()].filter((b) => b.reachable).map((b) => ({
      id: b.id,
      host: b.host,
      port: b.port,
      partitionCount: loads.get(b.id)?.partitions ?? 0,
      leaderCount: loads.get(b.id)?.leaders ?? 0,
    }));
  }

  /** The named streams (unknown ones flagged), or every stream when `names` is empty. */
  /** The groups asked for, in the order asked (clients look up the coordinator to fetch assignments from). */
  groups(ids: readonly string[]): GroupView[] {
    const groups = this.metadata.state.groups;
    return ids.map((id) => {
      const group = groups.get(id);
      return group === undefined ? { kind: 'unknown', id } : { kind: 'known', id, coordinator: group.coordinator, epoch: group.epoch };
    });
  }

  streams(names: readonly string[]): StreamView[] {
    const state = this.metadata.state;
    const wanted = names.length > 0 ? names : [...state.streams.keys()];
    return wanted.map((name): StreamView => {
      const stream = state.streams.get(name);
      if (!stream) return { kind: 'unknown', name };
      return {
        kind: 'known',
        name,
        subject: stream.subject,
        creationTimestampNs: BigInt(stream.creationTimestampNs),
        partitions: stream.partitions.map((p) => this.partitionView(p)),
      };
    });
  }

  /** Only the partition leader answers, with its log positions (docs/protocol.md "FetchPartitionMetadata"). */
  partition(stream: string, partition: number): Result<PartitionView, ApplicationError> {
    const state = this.metadata.state.streams.get(stream)?.partitions[partition];
    if (!state) return err({ kind: 'PartitionMetadataUnknown' });
    const runtime = this.partitions.get({ stream, partition });
    const failure = state.leader === this.settings.serverId && !state.paused ? this.partitions.notStarted({ stream, partition }) : undefined;
    if (failure) return err({ kind: 'PartitionNotStarted', stream, partition, code: failure.code, message: failure.message });
    if (state.paused || state.leader !== this.settings.serverId || !runtime?.isLeader) return err({ kind: 'PartitionMetadataNotLeader' });
    return ok(this.partitionView(state));
  }

  private partitionView(p: PartitionState): PartitionView {
    const ref = { stream: p.stream, partition: p.id };
    const runtime = this.partitions.get(ref);
    const received = this.partitions.receivedTimestamps(ref);
    return {
      id: p.id,
      leader: p.leader,
      replicas: p.replicas,
      isr: p.isr,
      highWatermark: runtime ? runtime.log.highWatermark : -1,
      newestOffset: runtime ? runtime.log.newestOffset : -1,
      paused: p.paused,
      readonly: p.readonly,
      messagesReceivedTimestamps: { firstNs: received?.firstNs ?? 0n, latestNs: received?.latestNs ?? 0n },
      pauseTimestamps: { firstNs: BigInt(p.pauseTimestamps.firstNs), latestNs: BigInt(p.pauseTimestamps.latestNs) },
      readonlyTimestamps: { firstNs: BigInt(p.readonlyTimestamps.firstNs), latestNs: BigInt(p.readonlyTimestamps.latestNs) },
    };
  }
}
