import { replicationMaxBytesProblem } from '../../../../src/infrastructure/lifecycle/replication-size-check';

/** docs/reliability.md "Bad inputs" C13: replication.max.bytes above NATS max_payload is refused at start. */
describe('replication.max.bytes against the NATS max_payload', () => {
  it('is accepted up to the smallest max_payload of the connections', () => {
    expect(replicationMaxBytesProblem(1_048_576, [1_048_576, 8_388_608])).toBeNull();
    expect(replicationMaxBytesProblem(4096, [1_048_576])).toBeNull();
    expect(replicationMaxBytesProblem(1_048_576, [undefined])).toBeNull(); // not known: the leaders still check at run time
  });

  it('is refused above it, naming both values', () => {
    expect(replicationMaxBytesProblem(2_097_152, [1_048_576, 8_388_608])).toBe(
      "clustering.replication.max.bytes (2097152) exceeds the NATS server's max_payload (1048576): replication replies that large cannot be sent; lower the setting or raise max_payload on the NATS servers",
    );
  });
});
