import { REPLICATION_REPLY_HEADER_BYTES } from '../ports/replication-transport.port';

/**
 * The largest stored entry a leader accepts, which is also the most record bytes one replication
 * reply carries: the reply header plus one whole entry must fit both `replication.max.bytes`
 * (which, as in Go, counts the header) and the largest message the transport delivers now (NATS
 * `max_payload`). So every record a leader accepts can be replicated, one reply at a time at worst
 * (docs/replication.md "Message size").
 */
export const entryBytesMax = (replicationMaxBytes: number, payloadBytesMax: number): number =>
  Math.min(replicationMaxBytes, payloadBytesMax) - REPLICATION_REPLY_HEADER_BYTES;
