import { InMemoryMessageTransport } from '../../../../src/adapters/outbound/memory/in-memory-message-transport';
import { InMemoryPartitionLogStore } from '../../../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { InMemoryReplicationHub } from '../../../../src/adapters/outbound/memory/in-memory-replication-transport';
import { PartitionLeader } from '../../../../src/application/partitions/partition-leader';
import { ReceivedTimestamps } from '../../../../src/application/partitions/partition-runtime';
import { AckError, AckMessage, AckPolicy, InboundMessage } from '../../../../src/application/ports/message-transport.port';
import type { PartitionMetrics, RefusalReason } from '../../../../src/application/ports/metrics.port';
import { StorageIoError } from '../../../../src/application/ports/partition-log.errors';
import type { NewRecord, PartitionLog, PendingAppend } from '../../../../src/application/ports/partition-log.port';
import type { ReplicationTransport } from '../../../../src/application/ports/replication-transport.port';
import { silentLogger } from '../../../support/memory-broker';
import { keepEverythingLogOptions } from '../../../support/partition-log-options';
import { VirtualTime } from '../../../support/virtual-time';

/**
 * What the leader's ingest refuses (docs/storage.md "What one record can hold"): a record that cannot be stored or replicated is
 * refused alone with an error ack, and when an append fails the publishers are answered.
 */
const REF = { stream: 'orders', partition: 0 };
const LOG_OPTIONS = keepEverythingLogOptions(1 << 26);

class RecordingMetrics implements PartitionMetrics {
  readonly refusals: Record<string, number> = {};
  appended(): void {}
  acked(): void {}
  delivered(): void {}
  damagedRecords(): void {}
  release(): void {}
  refused(reason: RefusalReason, records: number): void {
    this.refusals[reason] = (this.refusals[reason] ?? 0) + records;
  }
}

/** A log whose appends go to `inner`, except that `fail` decides, per call, to throw or to fail the write. */
function faultyLog(inner: PartitionLog, fail: (records: readonly NewRecord[]) => 'throw' | 'write-fails' | null): PartitionLog {
  return new Proxy(inner, {
    get(target, property) {
      if (property !== 'append') {
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      }
      return (records: readonly NewRecord[], timestampNs: bigint, epoch: number): PendingAppend => {
        const failure = fail(records);
        if (failure === 'throw') throw new RangeError('header name of 65536 bytes is too long');
        const pending = target.append(records, timestampNs, epoch);
        if (failure === 'write-fails') return { ...pending, durable: Promise.reject(new StorageIoError('fsync failed: EIO')) };
        return pending;
      };
    },
  });
}

interface Harness {
  /** Times the leader told the health monitor that an append failed. */
  readonly appendFailures: { count: number };
  readonly transport: InMemoryMessageTransport;
  readonly log: PartitionLog;
  readonly metrics: RecordingMetrics;
  readonly acks: AckMessage[];
  publish(value: string | Buffer, extra?: Partial<InboundMessage>): void;
  settle(): Promise<void>;
  stop(): Promise<void>;
}

async function startLeader(
  options: { replicationMaxBytes?: number; concurrencyControl?: boolean; replication?: ReplicationTransport; fail?: Parameters<typeof faultyLog>[1] } = {},
): Promise<Harness> {
  const time = new VirtualTime();
  const transport = new InMemoryMessageTransport();
  const inner = await new InMemoryPartitionLogStore().open(REF, LOG_OPTIONS);
  const log = options.fail ? faultyLog(inner, options.fail) : inner;
  const metrics = new RecordingMetrics();
  const appendFailures = { count: 0 };
  const leader = new PartitionLeader(
    {
      stream: REF.stream,
      partition: 0,
      subject: 'orders',
      group: '',
      leaderEpoch: 1,
      batchMaxMessages: 1024,
      replicationMaxBytes: options.replicationMaxBytes ?? 1024 * 1024,
      concurrencyControl: options.concurrencyControl ?? false,
    },
    {
      log, transport, clock: time, scheduler: time, logger: silentLogger, received: new ReceivedTimestamps(), metrics,
      appendFailed: () => void appendFailures.count++,
      ...(options.replication ? { replication: options.replication } : {}),
    },
  );
  await leader.start();
  const acks: AckMessage[] = [];
  const inbox = await transport.openAckInbox('acks');
  inbox.acks$.subscribe((ack) => acks.push(ack));
  return {
    appendFailures,
    transport,
    log,
    metrics,
    acks,
    publish: (value, extra = {}) =>
      transport.publishInbound('orders', {
        key: null,
        value: Buffer.isBuffer(value) ? value : Buffer.from(value),
        headers: null,
        reply: '',
        ackInbox: 'acks',
        correlationId: Buffer.isBuffer(value) ? `${value.length} bytes` : value,
        ackPolicy: AckPolicy.LEADER,
        expectedOffset: -1,
        ...extra,
      }),
    settle: () => time.advance(1),
    stop: () => leader.stop(),
  };
}

const byId = (acks: AckMessage[]): Map<string, AckMessage> => new Map(acks.map((a) => [a.correlationId, a]));

describe('a partition leader refuses one bad record without losing the others', () => {
  it('a record the log cannot take fails alone; the rest of its batch is stored and acked in order', async () => {
    const h = await startLeader({ fail: (records) => (records.some((r) => r.value?.toString() === 'poison') ? 'throw' : null) });
    const values = Array.from({ length: 20 }, (_, i) => `m${i}`);
    values.splice(7, 0, 'poison');
    for (const v of values) h.publish(v);
    await h.settle();
    const acks = byId(h.acks);
    expect(acks.size).toBe(21);
    expect(acks.get('poison')!.ackError).toBe(AckError.UNKNOWN);
    const good = values.filter((v) => v !== 'poison');
    expect(good.map((v) => [acks.get(v)!.ackError, acks.get(v)!.offset])).toEqual(good.map((_, i) => [AckError.OK, i]));
    expect(h.log.newestOffset).toBe(19);
    expect(h.metrics.refusals).toEqual({ append_failed: 1 });
    await h.stop();
  });

  it('re-checks expected offsets when a record of an optimistic-concurrency batch fails', async () => {
    const h = await startLeader({ concurrencyControl: true, fail: (records) => (records.some((r) => r.value?.toString() === 'poison') ? 'throw' : null) });
    h.publish('a', { expectedOffset: 0 });
    h.publish('poison', { expectedOffset: 1 });
    h.publish('b', { expectedOffset: 2 }); // expected the poison to be stored at 1
    h.publish('c', { expectedOffset: -1 });
    await h.settle();
    const acks = byId(h.acks);
    expect(['a', 'poison', 'b', 'c'].map((v) => [v, acks.get(v)!.ackError, acks.get(v)!.offset])).toEqual([
      ['a', AckError.OK, 0],
      ['poison', AckError.UNKNOWN, 0],
      ['b', AckError.INCORRECT_OFFSET, 0],
      ['c', AckError.OK, 1],
    ]);
    await h.stop();
  });

  it('a write that fails answers every publisher with an AckInbox (UNKNOWN) and counts all of them', async () => {
    const h = await startLeader({ fail: () => 'write-fails' });
    for (let i = 0; i < 5; i++) h.publish(`m${i}`);
    h.publish('no inbox', { ackInbox: '' });
    await h.settle();
    expect(h.acks.map((a) => [a.correlationId, a.ackError])).toEqual([0, 1, 2, 3, 4].map((i) => [`m${i}`, AckError.UNKNOWN]));
    expect(h.metrics.refusals).toEqual({ append_failed: 6 });
    await h.stop();
  });

  it('tells the health monitor when an append failed, so that it looks at once', async () => {
    const h = await startLeader({ fail: () => 'write-fails' });
    h.publish('m');
    await h.settle();
    expect(h.appendFailures.count).toBe(1);
    await h.stop();
  });

  it('a header name of 64 KiB from a NATS publisher is refused alone with TOO_LARGE', async () => {
    const h = await startLeader();
    for (let i = 0; i < 10; i++) h.publish(`m${i}`);
    h.publish('bad', { headers: { ['h'.repeat(65_536)]: Buffer.from('v') } });
    for (let i = 10; i < 20; i++) h.publish(`m${i}`);
    h.publish('bad, no inbox', { headers: { ['h'.repeat(65_536)]: Buffer.from('v') }, ackInbox: '' });
    await h.settle();
    const acks = byId(h.acks);
    expect(acks.get('bad')!.ackError).toBe(AckError.TOO_LARGE);
    for (let i = 0; i < 20; i++) expect([acks.get(`m${i}`)!.ackError, acks.get(`m${i}`)!.offset]).toEqual([AckError.OK, i]);
    expect(h.metrics.refusals).toEqual({ too_large: 2 });
    await h.stop();
  });
});

describe('a partition leader accepts only what can be replicated', () => {
  // Raw payload on subject "orders" (6 bytes), no reply: entry = 68 + 6 + value bytes; a reply adds 24.
  const valueFor = (entryBytes: number): Buffer => Buffer.alloc(entryBytes - 74, 0x61);

  it.each([
    ['replication.max.bytes', 4096, 1024 * 1024],
    ['NATS max_payload', 1024 * 1024, 4096],
  ])('the limit is reply header + one entry <= %s', async (_which, replicationMaxBytes, payloadBytesMax) => {
    const hub = new InMemoryReplicationHub({ payloadBytesMax });
    const h = await startLeader({ replicationMaxBytes, replication: hub.connect('a') });
    for (const entryBytes of [4096 - 24 - 1, 4096 - 24, 4096 - 24 + 1]) h.publish(valueFor(entryBytes));
    await h.settle();
    const acks = byId(h.acks);
    expect(acks.get(`${4096 - 74 - 25} bytes`)).toMatchObject({ ackError: AckError.OK, offset: 0 });
    expect(acks.get(`${4096 - 74 - 24} bytes`)).toMatchObject({ ackError: AckError.OK, offset: 1 });
    expect(acks.get(`${4096 - 74 - 23} bytes`)).toMatchObject({ ackError: AckError.TOO_LARGE, commitTimestampNs: 0n });
    expect(h.metrics.refusals).toEqual({ too_large: 1 });
    await h.stop();
  });

  it('follows the transport limit as it changes (a NATS reconnect to a server with a smaller max_payload)', async () => {
    const hub = new InMemoryReplicationHub({ payloadBytesMax: 1024 * 1024 });
    const h = await startLeader({ replication: hub.connect('a') });
    h.publish(valueFor(8000));
    await h.settle();
    hub.payloadBytesMax = 4096;
    h.publish(Buffer.alloc(8000 - 74 + 1, 0x62));
    await h.settle();
    expect(h.acks.map((a) => a.ackError)).toEqual([AckError.OK, AckError.TOO_LARGE]);
    await h.stop();
  });
});
