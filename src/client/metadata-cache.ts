import type * as api from '../protocol/api-types';
import { StreamMetadataError } from '../protocol/api-types';

/** A snapshot of cluster metadata as the client sees it. */
export class Metadata {
  private readonly brokerAddresses: ReadonlyMap<string, string>;
  private readonly streams: ReadonlyMap<string, api.StreamMetadata>;

  constructor(readonly response: api.FetchMetadataResponse, readonly fetchedAt: number) {
    this.brokerAddresses = new Map(response.brokers.map((b) => [b.id, `${b.host}:${b.port}`]));
    this.streams = new Map(
      response.streamMetadata.filter((s) => s.error === StreamMetadataError.OK).map((s) => [s.name, s]),
    );
  }

  get brokers(): readonly api.Broker[] {
    return this.response.brokers;
  }

  /** `host:port` of every known broker. */
  addresses(): string[] {
    return [...this.brokerAddresses.values()];
  }

  brokerAddress(id: string): string | undefined {
    return this.brokerAddresses.get(id);
  }

  stream(name: string): api.StreamMetadata | undefined {
    return this.streams.get(name);
  }

  partitionCount(stream: string): number | undefined {
    const s = this.streams.get(stream);
    return s ? Object.keys(s.partitions).length : undefined;
  }

  partition(stream: string, partition: number): api.PartitionMetadata | undefined {
    return this.streams.get(stream)?.partitions[partition];
  }

  /** Address of the partition leader, or of a random ISR member when `isrReplica`. */
  leaderAddress(stream: string, partition: number, isrReplica = false): string | undefined {
    const p = this.partition(stream, partition);
    if (!p) return undefined;
    if (isrReplica && p.isr.length > 0) {
      const candidates = p.isr.map((id) => this.brokerAddresses.get(id)).filter((a): a is string => a !== undefined);
      if (candidates.length > 0) return candidates[Math.floor(Math.random() * candidates.length)];
    }
    return p.leader ? this.brokerAddresses.get(p.leader) : undefined;
  }

  /** A new snapshot with `response`'s streams merged over this one's (brokers replaced). */
  merge(response: api.FetchMetadataResponse, requested: readonly string[], fetchedAt: number): Metadata {
    if (requested.length === 0) return new Metadata(response, fetchedAt);
    const byName = new Map(this.response.streamMetadata.map((s) => [s.name, s]));
    for (const s of response.streamMetadata) {
      if (s.error === StreamMetadataError.OK) byName.set(s.name, s);
      else byName.delete(s.name);
    }
    return new Metadata({ ...response, streamMetadata: [...byName.values()] }, fetchedAt);
  }
}
