import { StartPosition, StopPosition, SubscribeQuery } from '../../src/application/use-cases/subscribe';

/** A Subscribe of `stream` partition 0 from the earliest record to the latest, no group; `overrides` change any field. */
export const subscribeQuery = (stream: string, overrides: Partial<SubscribeQuery> = {}): SubscribeQuery => ({
  stream,
  partition: 0,
  startPosition: StartPosition.EARLIEST,
  startOffset: 0,
  startTimestampNs: 0n,
  stopPosition: StopPosition.STOP_LATEST,
  stopOffset: 0,
  stopTimestampNs: 0n,
  readIsrReplica: false,
  resume: false,
  consumerGroupId: '',
  consumerGroupEpoch: 0n,
  consumerId: '',
  ...overrides,
});
