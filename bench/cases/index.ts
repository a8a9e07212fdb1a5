import type { BenchCase } from '../types';
import { coreNatsCase } from './core-nats';
import { grpcCeilingCase } from './grpc-ceiling';
import { jetStreamCase } from './jetstream';
import { liftbridgeCatchupSubscribeCase } from './liftbridge-catchup-subscribe';
import { liftbridgeNatsPublishCase } from './liftbridge-nats-publish';
import { liftbridgePublishAsyncCase } from './liftbridge-publish-async';
import { liftbridgePublishUnaryCase } from './liftbridge-publish-unary';

/** Every case, in the order each round runs them and the table lists them. */
export const allCases: readonly BenchCase[] = [
  coreNatsCase,
  jetStreamCase,
  grpcCeilingCase,
  liftbridgeNatsPublishCase,
  liftbridgePublishAsyncCase,
  liftbridgePublishUnaryCase,
  liftbridgeCatchupSubscribeCase,
];
