/**
 * docs/reliability.md "Bad inputs" C13: with `clustering.replication.max.bytes` above the NATS server's
 * `max_payload`, a full replication reply could never be sent. Refused at start with both values
 * named (fail closed) rather than clamped: the operator either lowers the setting or raises
 * `max_payload` on the NATS servers (docs/configuration.md). Leaders also size replies and screen
 * records against the current `max_payload`, which a reconnect to another server can change.
 */
export function replicationMaxBytesProblem(replicationMaxBytes: number, maxPayloads: readonly (number | undefined)[]): string | null {
  const known = maxPayloads.filter((m): m is number => m !== undefined);
  if (known.length === 0) return null;
  const maxPayload = Math.min(...known);
  if (replicationMaxBytes <= maxPayload) return null;
  return `clustering.replication.max.bytes (${replicationMaxBytes}) exceeds the NATS server's max_payload (${maxPayload}): replication replies that large cannot be sent; lower the setting or raise max_payload on the NATS servers`;
}
