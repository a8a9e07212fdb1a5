import type * as api from '../adapters/codec/api-types';
import { AckPolicy } from '../adapters/codec/api-types';
import { Bytes, PublishOptions, toBuffer } from './types';

/** Builds the wire PublishRequest (expectedOffset defaults to -1, ackPolicy to LEADER). */
export function toPublishRequest(
  stream: string,
  partition: number,
  key: Buffer,
  value: Buffer,
  correlationId: string,
  options: PublishOptions,
): api.PublishRequest {
  const headers: Record<string, Buffer> = {};
  for (const [name, v] of Object.entries(options.headers ?? {})) headers[name] = toBuffer(v as Bytes);
  return {
    stream,
    partition,
    key,
    value,
    headers,
    ackInbox: '',
    correlationId,
    ackPolicy: options.ackPolicy ?? AckPolicy.LEADER,
    expectedOffset: BigInt(options.expectedOffset ?? -1),
  };
}
