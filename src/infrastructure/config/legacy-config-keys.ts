/**
 * Pre-1.0 key names (docs/configuration.md "Pre-1.0 brace format") → today's keys. Keys are the flattened dotted form, so the
 * block `log { segment.max.bytes: 1 }` is `log.segment.max.bytes`. Keys not listed here
 * (`listen`, `data.dir`, `nats.servers`, `clustering.server.id`, …) kept their names and are
 * accepted as they are, as is any other current key.
 */
export const LEGACY_KEYS: ReadonlyMap<string, string> = new Map([
  ['log.level', 'logging.level'],
  ['log.recovery', 'logging.recovery'],
  ['clustering.raft.logging', 'logging.raft'],
  ['batch.wait.time', 'batch.max.time'],
  ['log.retention.max.bytes', 'streams.retention.max.bytes'],
  ['log.retention.max.messages', 'streams.retention.max.messages'],
  ['log.retention.max.age', 'streams.retention.max.age'],
  ['log.cleaner.interval', 'streams.cleaner.interval'],
  ['log.segment.max.bytes', 'streams.segment.max.bytes'],
  ['log.compact.max.goroutines', 'streams.compact.max.goroutines'],
  ['log.log.roll.time', 'streams.segment.max.age'],
  ['log.compact', 'streams.compact.enabled'],
  ['tls.client.auth', 'tls.client.auth.enabled'],
]);
