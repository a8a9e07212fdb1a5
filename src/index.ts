/**
 * The package root: the Node/TypeScript client (also importable as `liftbridge-ts/client`) and,
 * for embedding a server in a process, the broker and its configuration.
 */
export * from './client';
export { Broker } from './infrastructure/lifecycle/broker';
export type { BrokerExtensions } from './infrastructure/lifecycle/broker';
export { defaultBrokerConfig } from './infrastructure/config/broker-config';
export type { BrokerConfig } from './infrastructure/config/broker-config';
