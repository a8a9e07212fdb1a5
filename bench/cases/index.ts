import type { BenchCase } from '../types';
import { coreNatsCase } from './core-nats';
import { grpcCeilingCase } from './grpc-ceiling';
import { jetStreamCase } from './jetstream';
import { jetStreamR3Case } from './jetstream-r3';
import { jetStreamUnaryCase } from './jetstream-unary';
import { liftbridgeCatchupSubscribeCase } from './liftbridge-catchup-subscribe';
import { liftbridgeClientAsyncPublisherCase } from './liftbridge-client-async-publisher';
import { liftbridgeGroupMemberDeathCase } from './liftbridge-group-member-death';
import { liftbridgeNatsPublishCase, liftbridgeNatsPublishMetricsOffCase, liftbridgeNatsPublishMetricsOnTwinCase } from './liftbridge-nats-publish';
import { liftbridgePublishAsyncCase, liftbridgePublishAsyncGrpcJsCase } from './liftbridge-publish-async';
import { liftbridgePublishUnaryAllCase, liftbridgePublishUnaryCase } from './liftbridge-publish-unary';
import { liftbridgeSetCursorCase } from './liftbridge-set-cursor';
import { liftbridgeReplicatedAllR1Case, liftbridgeReplicatedAllR3Case } from './liftbridge-replicated-publish';

/**
 * Every case, in the order the table lists them and each round runs them — except that
 * `roundOrder` reverses the adjacent acked-NATS-publish trio (metrics on / off / on twin) every
 * other round, to spread slow drift evenly.
 */
export const allCases: readonly BenchCase[] = [
  coreNatsCase,
  jetStreamCase,
  grpcCeilingCase,
  liftbridgeNatsPublishCase,
  liftbridgeNatsPublishMetricsOffCase,
  liftbridgeNatsPublishMetricsOnTwinCase,
  liftbridgePublishAsyncCase,
  liftbridgePublishAsyncGrpcJsCase,
  liftbridgeClientAsyncPublisherCase,
  jetStreamUnaryCase,
  liftbridgePublishUnaryCase,
  liftbridgePublishUnaryAllCase,
  liftbridgeSetCursorCase,
  liftbridgeCatchupSubscribeCase,
  liftbridgeGroupMemberDeathCase,
  // Replicated publishes, each on its own three-node cluster (started once per bench run, when the cluster phase begins).
  jetStreamR3Case,
  liftbridgeReplicatedAllR3Case,
  liftbridgeReplicatedAllR1Case,
];

/**
 * The order of round `run` (1-based): `allCases`, with the adjacent trio of acked NATS publish
 * (main server metrics on, metrics off, twin metrics on) reversed in even rounds, so that neither
 * side of an on/off comparison always runs first.
 */
export function roundOrder(run: number): readonly BenchCase[] {
  const trio = [liftbridgeNatsPublishCase, liftbridgeNatsPublishMetricsOffCase, liftbridgeNatsPublishMetricsOnTwinCase];
  const order = [...allCases];
  if (run % 2 === 0) {
    const first = order.indexOf(trio[0]!);
    order.splice(first, trio.length, ...[...trio].reverse());
  }
  return order;
}
