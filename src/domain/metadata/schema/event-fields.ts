import { MetadataEvent } from '../metadata-events';
import { jsonFields } from './json-fields';

type FieldKind = 'string' | 'index' | 'boolean' | 'decimal' | 'strings' | 'config';
type EventType = MetadataEvent['type'];
type DataOf<T extends EventType> = Extract<MetadataEvent, { type: T }>['data'];

/**
 * Every field of every event, with the kind of value it holds: an event of the log is rebuilt from
 * exactly these (a missing, mistyped or unknown field is refused). Typed so that an event field
 * added to metadata-events.ts fails to compile here until it is listed.
 */
const EVENT_FIELDS: { readonly [T in EventType]: { readonly [K in keyof DataOf<T>]-?: FieldKind } } = {
  BrokerRegistered: { id: 'string', host: 'string', port: 'index' },
  BrokerReachabilityChanged: { id: 'string', reachable: 'boolean', atNs: 'decimal' },
  StreamCreated: {
    name: 'string',
    subject: 'string',
    group: 'string',
    replicationFactor: 'index',
    partitionCount: 'index',
    config: 'config',
    creationTimestampNs: 'decimal',
  },
  PartitionCreated: { stream: 'string', partition: 'index', replicas: 'strings', leader: 'string' },
  StreamDeleted: { name: 'string' },
  PartitionPaused: { stream: 'string', partition: 'index', resumeAll: 'boolean', atNs: 'decimal' },
  PartitionResumed: { stream: 'string', partition: 'index', atNs: 'decimal' },
  PartitionReadonlyChanged: { stream: 'string', partition: 'index', readonly: 'boolean', atNs: 'decimal' },
  IsrShrunk: { stream: 'string', partition: 'index', replica: 'string' },
  IsrExpanded: { stream: 'string', partition: 'index', replica: 'string' },
  PartitionLeaderChanged: { stream: 'string', partition: 'index', leader: 'string', isr: 'strings' },
  ActivityPublished: { id: 'index' },
  ConsumerGroupCreated: { group: 'string', coordinator: 'string', consumer: 'string', streams: 'strings' },
  ConsumerGroupJoined: { group: 'string', consumer: 'string', streams: 'strings' },
  ConsumerGroupLeft: { group: 'string', consumer: 'string', expired: 'boolean' },
  ConsumerGroupCoordinatorChanged: { group: 'string', coordinator: 'string' },
};

const isEventType = (type: unknown): type is EventType => typeof type === 'string' && Object.prototype.hasOwnProperty.call(EVENT_FIELDS, type);

/** One event of a proposal, rebuilt field by field; `fail` makes the decoder's error. */
export function decodeEvent(value: unknown, at: string, fail: (detail: string) => Error): MetadataEvent {
  const read = jsonFields(fail);
  const r = read.record(value, at);
  if (!isEventType(r.type)) throw fail(`${at}.type ${JSON.stringify(r.type)} is not a metadata event`);
  const fields = EVENT_FIELDS[r.type] as Readonly<Record<string, FieldKind>>;
  const raw = read.record(r.data, `${at}.data`);
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) if (fields[key] === undefined) throw fail(`${at}.data has an unknown field ${key}`);
  for (const [key, kind] of Object.entries(fields)) data[key] = read[kind](raw[key], `${at}.data.${key}`);
  return { type: r.type, data } as MetadataEvent;
}
