import { ackInboxProblem } from '../../../domain/cluster/internal-subjects';
import type { PartitionRef } from '../../../domain/shared/ids';

/**
 * What an internal message is, by subject: the `kind` label of dropped-message counts and logs
 * (docs/operability.md). Replies to our requests arrive on inboxes and are `reply`.
 */
export const MessageKind = {
  raft: 'raft',
  forwardedCommand: 'forwarded-command',
  join: 'join',
  heartbeat: 'heartbeat',
  seedAnnouncement: 'seed-announcement',
  replicationRequest: 'replication-request',
  epochOffsetRequest: 'epoch-offset-request',
  notification: 'notification',
  reply: 'reply',
} as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/** Server ids are one NATS token: non-empty, no dots, wildcards or whitespace. */
export const isServerIdToken = (id: string): boolean => id.length > 0 && !/[.*>\s]/.test(id);

/**
 * Every NATS subject the server uses, built in one place (docs/style.md "Naming"); docs/protocol.md "Subjects".
 * Partition subjects (`S`, `S.<i>`) come from the domain's `partitionSubject`.
 */
export class Subjects {
  constructor(readonly namespace: string) {}

  /** Server-generated ack inbox: `<ns>.ack.<id>`. */
  ackInbox(id: string): string {
    return `${this.namespace}.ack.${id}`;
  }

  /**
   * Replies to the server's own requests arrive on `<ns>._INBOX.<id>…` (the nats.js `inboxPrefix`
   * of every server connection), inside the namespace, so that NATS permissions can keep clients
   * that may use `_INBOX.>` away from them (docs/nats-security.md).
   */
  requestInboxPrefix(): string {
    return `${this.namespace}._INBOX`;
  }

  /**
   * The Raft transport inbox of one server: `<ns>.raft.node.<serverId>` (docs/raft.md "Transport"). The `node`
   * token keeps it disjoint from Liftbridge's `<ns>.raft.metadata.…` subjects (docs/protocol.md "Subjects") whatever
   * the server id is. The id must be a non-empty NATS token (no dots, wildcards or whitespace).
   */
  raftInbox(serverId: string): string {
    if (!isServerIdToken(serverId)) throw new RangeError(`server id ${JSON.stringify(serverId)} is not a valid NATS subject token`);
    return `${this.namespace}.raft.node.${serverId}`;
  }

  /** Metadata commands forwarded to the controller (docs/protocol.md "Subjects"; only the controller subscribes). */
  metadataPropagate(): string {
    return `${this.namespace}.raft.metadata.propagate`;
  }

  /** Join requests of servers without Raft state (docs/protocol.md "Subjects"; only the controller subscribes). */
  metadataJoin(): string {
    return `${this.namespace}.raft.metadata.join`;
  }

  /** Seed servers announce themselves here (docs/protocol.md "Subjects": raw server-id bytes, no envelope). */
  bootstrapSeeds(): string {
    return `${this.namespace}.raft.metadata.bootstrap`;
  }

  /** Where seed servers answer another seed's announcement. */
  bootstrapSeedReplies(): string {
    return `${this.namespace}.raft.metadata.bootstrap.reply`;
  }

  /** Every server's heartbeats (ours: Liftbridge has no such subject; docs/cluster.md). */
  heartbeats(): string {
    return `${this.namespace}.raft.heartbeat`;
  }

  /** Follower fetches of one partition, answered by its leader: `<ns>.<stream>.<partition>.replicate` (docs/protocol.md "Subjects"). */
  replicate(ref: PartitionRef): string {
    return `${this.partitionPrefix(ref)}.replicate`;
  }

  /** Leader-epoch end-offset requests of one partition: `<ns>.<stream>.<partition>.offset` (docs/protocol.md "Subjects"). */
  leaderEpochOffset(ref: PartitionRef): string {
    return `${this.partitionPrefix(ref)}.offset`;
  }

  /** Partition notifications to one idle follower: `<ns>.notify.<serverId>` (docs/protocol.md "Subjects"); the id must be one token. */
  notify(serverId: string): string {
    if (!isServerIdToken(serverId)) throw new RangeError(`server id ${JSON.stringify(serverId)} is not a valid NATS subject token`);
    return `${this.namespace}.notify.${serverId}`;
  }

  /**
   * `<ns>.<stream>.<partition>`. Go embeds the stream name unchecked (docs/protocol.md "Subjects"); we refuse names
   * that would make an invalid or wildcard subject (empty tokens, `*`, `>`, whitespace) with a
   * RangeError rather than subscribe to the wrong thing. Dotted names stay allowed, as in Go.
   */
  private partitionPrefix(ref: PartitionRef): string {
    const { stream, partition } = ref;
    if (stream.length === 0 || /[*>\s]/.test(stream) || stream.split('.').some((token) => token.length === 0)) {
      throw new RangeError(`stream name ${JSON.stringify(stream)} cannot be embedded in a NATS subject`);
    }
    if (!Number.isSafeInteger(partition) || partition < 0) throw new RangeError(`partition ${partition} is not a partition index`);
    return `${this.namespace}.${stream}.${partition}`;
  }

  /** The kind of an internal message received on `subject` (only called for dropped messages). */
  kindOf(subject: string): MessageKind {
    const ns = this.namespace;
    if (subject.startsWith(`${ns}.raft.node.`)) return MessageKind.raft;
    if (subject === this.metadataPropagate()) return MessageKind.forwardedCommand;
    if (subject === this.metadataJoin()) return MessageKind.join;
    if (subject === this.heartbeats()) return MessageKind.heartbeat;
    if (subject === this.bootstrapSeeds() || subject === this.bootstrapSeedReplies()) return MessageKind.seedAnnouncement;
    if (subject.startsWith(`${ns}.notify.`)) return MessageKind.notification;
    if (subject.startsWith(`${ns}.`) && subject.endsWith('.replicate')) return MessageKind.replicationRequest;
    if (subject.startsWith(`${ns}.`) && subject.endsWith('.offset')) return MessageKind.epochOffsetRequest;
    return MessageKind.reply;
  }

  /** Whether the server may publish an ack to `subject` (the domain's rule, docs/reliability.md "Bad inputs", B15). */
  isAcceptableAckInbox(subject: string): boolean {
    return ackInboxProblem(this.namespace, subject) === null;
  }
}
