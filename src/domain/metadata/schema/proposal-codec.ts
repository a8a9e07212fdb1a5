import { AggregateRef, Expectation, MetadataProposal } from '../metadata-proposal';
import { decodeEvent } from './event-fields';
import { jsonFields } from './json-fields';
import { isReadableSchemaVersion, METADATA_SCHEMA_VERSION, MetadataDecodeError } from './metadata-schema';

export class MetadataProposalDecodeError extends MetadataDecodeError {
  override readonly name = 'MetadataProposalDecodeError';
  constructor(detail: string) {
    super(`invalid metadata proposal: ${detail}`);
  }
}

const fail = (detail: string): Error => new MetadataProposalDecodeError(detail);
const read = jsonFields(fail);

/** `{ v, p: { proposalId, events, expectations } }`: the data of one Raft entry of the metadata log. */
export const encodeMetadataProposal = (proposal: MetadataProposal): string => JSON.stringify({ v: METADATA_SCHEMA_VERSION, p: proposal });

/**
 * The proposal in a Raft entry's data, rebuilt field by field like a snapshot (metadata-snapshot.ts).
 * Throws `MetadataProposalDecodeError` on anything else: an entry this server cannot read must stop
 * it, not be skipped (skipping would leave it with a state the others do not have).
 */
export function decodeMetadataProposal(data: string): MetadataProposal {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw fail('not JSON');
  }
  const root = read.record(parsed, 'entry');
  if (!isReadableSchemaVersion(root.v)) throw fail(`unknown schema version ${JSON.stringify(root.v)} (written by a newer server?)`);
  const p = read.record(root.p, 'p');
  const events = read.array(p.events, 'p.events').map((e, i) => decodeEvent(e, `p.events[${i}]`, fail));
  const version = root.v;
  const expectations = read.array(p.expectations, 'p.expectations').map((e, i) => decodeExpectation(e, `p.expectations[${i}]`, version));
  return { proposalId: read.string(p.proposalId, 'p.proposalId'), events, expectations };
}

function decodeExpectation(value: unknown, at: string, schema: 1 | 2): Expectation {
  const r = read.record(value, at);
  const version = r.version === 'absent' ? 'absent' : read.index(r.version, `${at}.version`);
  const aggregate = schema === 1 ? decodeV1Aggregate(r.aggregate, `${at}.aggregate`) : decodeAggregate(r.aggregate, `${at}.aggregate`);
  return { aggregate, version };
}

function decodeAggregate(value: unknown, at: string): AggregateRef {
  const r = read.record(value, at);
  switch (r.kind) {
    case 'stream':
      return { kind: 'stream', stream: read.string(r.stream, `${at}.stream`) };
    case 'partition':
      return { kind: 'partition', stream: read.string(r.stream, `${at}.stream`), partition: read.index(r.partition, `${at}.partition`) };
    case 'broker':
      return { kind: 'broker', broker: read.string(r.broker, `${at}.broker`) };
    case 'group':
      return { kind: 'group', group: read.string(r.group, `${at}.group`) };
    default:
      throw fail(`${at}.kind ${JSON.stringify(r.kind)} is not an aggregate`);
  }
}

/** Schema 1 named aggregates `"stream:<name>"` and `"broker:<id>"` (names may hold ':'). */
function decodeV1Aggregate(value: unknown, at: string): AggregateRef {
  const text = read.string(value, at);
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const id = text.slice(colon + 1);
  if (kind === 'stream') return { kind: 'stream-v1', stream: id };
  if (kind === 'broker') return { kind: 'broker-v1', broker: id };
  throw fail(`${at} ${JSON.stringify(text)} is not an aggregate`);
}
