import type { NatsConnection } from 'nats';

/**
 * Hands ready-made NATS protocol bytes (`PUB ...` commands) to a nats.js connection's outbound
 * buffer in one call.
 *
 * nats.js publishes one message at a time: it builds the `PUB` line as a string, encodes it, and
 * queues three chunks that it later joins into one write. For a batch of acks that is most of the
 * ack path's cost; the acks of one append encoded as PUB commands in one buffer
 * (`encodeAckBatchAsPublishes`) go out with none of it.
 *
 * This uses nats.js internals (`nc.protocol.sendCommand`, its `outMsgs`/`outBytes` counters and
 * `noMorePublishing`), checked here and in test/integration/nats/nats-raw-publish.int.spec.ts against
 * the pinned `nats` version. When they are missing `rawPublisher` returns null and the caller
 * publishes message by message.
 */
export interface RawPublisher {
  /**
   * Queues `commands` (complete PUB commands for `messages` messages carrying `payloadBytes`);
   * false when the connection no longer publishes (closed or draining), so nothing was queued.
   */
  send(commands: Uint8Array, messages: number, payloadBytes: number): boolean;
}

interface ProtocolInternals {
  sendCommand(command: Uint8Array): void;
  outMsgs: number;
  outBytes: number;
  noMorePublishing: boolean;
}

function protocolOf(nc: NatsConnection): ProtocolInternals | null {
  const protocol = (nc as unknown as { protocol?: Partial<ProtocolInternals> }).protocol;
  if (protocol === null || typeof protocol !== 'object') return null;
  if (typeof protocol.sendCommand !== 'function') return null;
  if (typeof protocol.outMsgs !== 'number' || typeof protocol.outBytes !== 'number' || typeof protocol.noMorePublishing !== 'boolean') return null;
  return protocol as ProtocolInternals;
}

/** A raw publisher for `nc`, or null when nats.js is not shaped as expected (publish one by one). */
export function rawPublisher(nc: NatsConnection): RawPublisher | null {
  const protocol = protocolOf(nc);
  if (protocol === null) return null;
  return {
    send(commands: Uint8Array, messages: number, payloadBytes: number): boolean {
      if (nc.isClosed() || protocol.noMorePublishing) return false;
      protocol.outMsgs += messages;
      protocol.outBytes += payloadBytes;
      protocol.sendCommand(commands);
      return true;
    },
  };
}
