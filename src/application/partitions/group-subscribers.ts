import { partitionKey, PartitionRef } from '../../domain/shared/ids';

/** Who a consumer-group Subscribe says it is (SubscribeRequest `consumer`, docs/protocol.md). */
export interface GroupConsumer {
  readonly groupId: string;
  readonly groupEpoch: bigint;
  readonly consumerId: string;
}

/** One group subscriber's hold on a partition; its `signal` aborts when a later subscriber replaces it. */
export interface GroupClaim {
  readonly signal: AbortSignal;
  readonly replaced: boolean;
  /** Forgets this subscriber, unless another one has replaced it already. */
  release(): void;
}

interface Holder {
  readonly consumer: GroupConsumer;
  readonly controller: AbortController;
}

/**
 * Partition ownership fencing at the partition leader (docs/consumers.md "Fencing"): at most one
 * subscriber per group and partition. A new one replaces the current one unless the current one
 * has a higher group epoch; the assignment itself is not checked here.
 */
export class GroupSubscribers {
  private readonly holders = new Map<string, Holder>();

  /** False when the group's current subscriber of `ref` has a higher epoch than `consumer`. */
  admits(ref: PartitionRef, consumer: GroupConsumer): boolean {
    const current = this.holders.get(key(ref, consumer.groupId));
    return current === undefined || current.consumer.groupEpoch <= consumer.groupEpoch;
  }

  /** Makes `consumer` the group's subscriber of `ref`, ending the one it replaces. Call `admits` first. */
  claim(ref: PartitionRef, consumer: GroupConsumer): GroupClaim {
    const k = key(ref, consumer.groupId);
    this.holders.get(k)?.controller.abort();
    const holder: Holder = { consumer, controller: new AbortController() };
    this.holders.set(k, holder);
    return {
      signal: holder.controller.signal,
      get replaced() {
        return holder.controller.signal.aborted;
      },
      release: () => {
        if (this.holders.get(k) === holder) this.holders.delete(k);
      },
    };
  }

  /** The group's current subscriber of `ref`, if any. */
  holder(ref: PartitionRef, groupId: string): GroupConsumer | undefined {
    return this.holders.get(key(ref, groupId))?.consumer;
  }

  /** How many group subscriptions are held, over all partitions and groups. */
  get size(): number {
    return this.holders.size;
  }
}

const key = (ref: PartitionRef, groupId: string): string => `${partitionKey(ref)}\u0000${groupId}`;
