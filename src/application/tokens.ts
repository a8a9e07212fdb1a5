import { ServiceIdentifier } from 'inversify';
import type { AckLease } from './ports/ack-lease.port';
import type { PeerContact } from './ports/peer-contact.port';
import type { MetadataRaftGroup } from './ports/metadata-raft-group.port';
import { ClusterChannel } from './ports/cluster-channel.port';
import { CursorRecords } from './ports/cursor-records.port';
import { ReplicationTransport } from './ports/replication-transport.port';
import { Clock, Scheduler } from './ports/clock.port';
import { Logger } from './ports/logger.port';
import { Metrics } from './ports/metrics.port';
import { MessageTransport } from './ports/message-transport.port';
import { MetadataLog } from './ports/metadata-log.port';
import { PartitionLogStore } from './ports/partition-log.port';
import { ValueEncryption } from './ports/value-encryption.port';
import { ActivityEncoder } from './ports/activity-encoder.port';
import { ServerSettings } from './server-settings';

type Id<T> = ServiceIdentifier<T>;

/** Every DI identifier, typed (docs/style.md "Composition root"). Only the composition root binds them. */
export const TOKENS = {
  ServerSettings: Symbol.for('ServerSettings') as Id<ServerSettings>,
  Clock: Symbol.for('Clock') as Id<Clock>,
  Scheduler: Symbol.for('Scheduler') as Id<Scheduler>,
  Logger: Symbol.for('Logger') as Id<Logger>,
  MetadataLog: Symbol.for('MetadataLog') as Id<MetadataLog>,
  PartitionLogStore: Symbol.for('PartitionLogStore') as Id<PartitionLogStore>,
  MessageTransport: Symbol.for('MessageTransport') as Id<MessageTransport>,
  Metrics: Symbol.for('Metrics') as Id<Metrics>,
  ClusterChannel: Symbol.for('ClusterChannel') as Id<ClusterChannel>,
  ReplicationTransport: Symbol.for('ReplicationTransport') as Id<ReplicationTransport>,
  MetadataRaftGroup: Symbol.for('MetadataRaftGroup') as Id<MetadataRaftGroup>,
  AckLease: Symbol.for('AckLease') as Id<AckLease>,
  PeerContact: Symbol.for('PeerContact') as Id<PeerContact>,
  ValueEncryption: Symbol.for('ValueEncryption') as Id<ValueEncryption>,
  ActivityEncoder: Symbol.for('ActivityEncoder') as Id<ActivityEncoder>,
  CursorRecords: Symbol.for('CursorRecords') as Id<CursorRecords>,
} as const;
