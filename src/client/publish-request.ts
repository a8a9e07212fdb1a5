import type * as api from '../protocol/api-types';
import { AckPolicy } from '../protocol/api-types';
import { Bytes, PublishOptions, toBuffer } from './types';

/** Shared by every request without headers (the encoder only reads it). */
const NO_HEADERS: Readonly<Record<string, Buffer>> = Object.freeze({});

/** Builds the wire PublishRequest (expectedOffset defaults to -1, ackPolicy to LEADER). */
export function toPublishRequest(
  stream: string,
  partition: number,
  key: Buffer,
  value: Buffer,
  correlationId: string,
  options: PublishOptions,
): api.PublishRequest {
  let headers = NO_HEADERS;
  if (options.headers !== undefined) {
    const converted: Record<string, Buffer> = {};
    for (const [name, v] of Object.entries(options.headers)) converted[name] = toBuffer(v as Bytes);
    headers = converted;
  }
  return {
    stream,
    partition,
    key,
    value,
    headers,
    ackInbox: '',
    correlationId,
    ackPolicy: options.ackPolicy ?? AckPolicy.LEADER,
    expectedOffset: options.expectedOffset === undefined ? -1n : BigInt(options.expectedOffset),
  };
}
