import { publishRequestProblem, publishedFieldsProblem } from '../../../../src/adapters/inbound/grpc/request-dtos';

/** What the gRPC edge refuses in a publish request, naming the field and the limit. */
describe('gRPC publish requests', () => {
  const request = { key: Buffer.alloc(0), value: Buffer.from('v'), headers: {}, correlationId: 'c', partition: 0, ackPolicy: 0, stream: 's', expectedOffset: -1n };

  it('refuse an expected offset below -1 (-1 means no check)', () => {
    expect(publishRequestProblem({ ...request, expectedOffset: -5n })).toBe('invalid expectedOffset: -5 (-1 for no check, else an offset >= 0)');
    expect(publishRequestProblem({ ...request, expectedOffset: -1n })).toBeNull();
    expect(publishRequestProblem({ ...request, expectedOffset: 0n })).toBeNull();
  });

  it('refuse what the storage format cannot hold, naming the field and the limit', () => {
    expect(publishRequestProblem({ ...request, headers: { ['h'.repeat(65_536)]: Buffer.from('v') } })).toBe(
      'invalid headers: a header name of 65536 bytes is longer than the limit of 32767 bytes',
    );
    const many: Record<string, Buffer> = {};
    for (let i = 0; i < 32_766; i++) many[`h${i}`] = Buffer.alloc(0);
    expect(publishedFieldsProblem({ ...request, headers: many })).toBe('invalid headers: 32766 headers, more than the limit of 32765');
  });
});
