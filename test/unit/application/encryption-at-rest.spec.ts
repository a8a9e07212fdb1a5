import { Container } from 'inversify';
import { firstValueFrom, take, toArray } from 'rxjs';
import { decodeEntry, decodeMessageSet } from '../../../src/adapters/codec/message-set';
import { AesValueEncryption } from '../../../src/adapters/outbound/crypto/aes-value-encryption';
import { MasterKey } from '../../../src/adapters/outbound/crypto/master-key';
import { MetadataService } from '../../../src/application/metadata/metadata-service';
import { PartitionSupervisor } from '../../../src/application/partitions/partition-supervisor';
import { AckError, AckMessage, AckPolicy } from '../../../src/application/ports/message-transport.port';
import { PartitionLog, RecordBatch } from '../../../src/application/ports/partition-log.port';
import { StreamAdminHandler } from '../../../src/application/use-cases/stream-admin';
import { StartPosition, SubscribeHandler, SubscriptionEnd } from '../../../src/application/use-cases/subscribe';
import { subscribeQuery } from '../../support/subscribe-query';
import { freshAdapters, memorySettings, restartedAdapters, startMemoryBroker, stopMemoryBroker } from '../../support/memory-broker';
import { decodeOpened } from '../../support/opened-entries';
import { MemoryAdapters } from '../../../src/infrastructure/di/modules/memory.module';

/** Encryption at rest through the real use cases and the real AES adapter, with in-memory logs and transport. */
const KEY = '0123456789abcdef0123456789abcdef';
const OTHER_KEY = 'fedcba9876543210';
const keyed = (key: string | null): AesValueEncryption => new AesValueEncryption(key === null ? null : MasterKey.fromString(key));

let inboxes = 0;
async function publish(adapters: MemoryAdapters, subject: string, values: string[]): Promise<AckMessage[]> {
  const inbox = await adapters.transport.openAckInbox(`acks.${++inboxes}`);
  const acks = firstValueFrom(inbox.acks$.pipe(take(values.length), toArray()));
  for (const [i, v] of values.entries()) {
    adapters.transport.publishInbound(subject, {
      key: Buffer.from(`key-${i}`), value: Buffer.from(v), headers: { h: Buffer.from(`header-${i}`) }, reply: '', ackInbox: inbox.subject,
      correlationId: v, ackPolicy: AckPolicy.LEADER, expectedOffset: -1,
    });
  }
  const received = await acks;
  inbox.close();
  return received;
}

async function read(broker: Container, stream: string, startOffset = 0): Promise<{ values: string[]; end: SubscriptionEnd }> {
  const opened = await broker.get(SubscribeHandler).open(subscribeQuery(stream, { startPosition: StartPosition.OFFSET, startOffset }))
  if (!opened.ok) throw new Error(opened.error.kind);
  const values: string[] = [];
  const end = await opened.value.pump({ write: (batch: RecordBatch) => void values.push(...decodeOpened(batch.bytes).map((e) => e.value!.toString())) }, new AbortController().signal);
  return { values, end };
}

const logOf = (broker: Container, stream: string): PartitionLog => broker.get(PartitionSupervisor).get({ stream, partition: 0 })!.log;
async function storedBytes(broker: Container, stream: string): Promise<Buffer> {
  const log = logOf(broker, stream);
  return (await log.read(0, log.newestOffset, 1 << 24))!.bytes;
}
const create = (broker: Container, name: string, encryption?: boolean) =>
  broker.get(StreamAdminHandler).createStream({ name, subject: name, group: '', replicationFactor: 1, partitions: 1, config: encryption === undefined ? {} : { encryption } });

describe('encryption at rest in the application', () => {
  it('refuses an encrypted stream without a usable master key, naming the variable, not the key', async () => {
    for (const key of [null, 'something-in-correct']) {
      const broker = await startMemoryBroker(freshAdapters(), memorySettings(), undefined, keyed(key));
      const created = await create(broker, 'secret', true);
      expect(created).toEqual({ ok: false, error: { kind: 'EncryptionUnavailable', reason: expect.stringContaining('invalid AES key size') as unknown } });
      expect(JSON.stringify(created)).toContain('LIFTBRIDGE_ENCRYPTION_KEY');
      expect(JSON.stringify(created)).not.toContain('something-in-correct');
      expect((await create(broker, 'clear', false)).ok).toBe(true);
      await stopMemoryBroker(broker);
    }
  });

  it('seals values on the leader: stored sealed, keys and headers in clear, served opened', async () => {
    const adapters = freshAdapters();
    const broker = await startMemoryBroker(adapters, memorySettings(), undefined, keyed(KEY));
    expect((await create(broker, 'secret', true)).ok).toBe(true);
    expect((await create(broker, 'clear')).ok).toBe(true);
    const acks = await publish(adapters, 'secret', ['alpha-plaintext', 'beta-plaintext']);
    expect(acks.map((a) => [a.ackError, a.offset])).toEqual([[AckError.OK, 0], [AckError.OK, 1]]);
    await publish(adapters, 'clear', ['alpha-plaintext']);
    const sealed = await storedBytes(broker, 'secret');
    expect(sealed.includes('alpha-plaintext')).toBe(false);
    expect(sealed.includes('key-1')).toBe(true);
    expect(sealed.includes('header-1')).toBe(true);
    expect(decodeEntry(sealed).value).toHaveLength('alpha-plaintext'.length + 69);
    expect((await storedBytes(broker, 'clear')).includes('alpha-plaintext')).toBe(true);
    expect(await read(broker, 'secret')).toEqual({ values: ['alpha-plaintext', 'beta-plaintext'], end: { kind: 'StopOffsetReached' } });
    await stopMemoryBroker(broker);
  });

  it('writes streams.encryption into a stream created without the option; an explicit false stays clear', async () => {
    const adapters = freshAdapters();
    const settings = memorySettings();
    const broker = await startMemoryBroker(adapters, { ...settings, streamDefaults: { ...settings.streamDefaults, encryption: true } }, undefined, keyed(KEY));
    await create(broker, 'by-default');
    await create(broker, 'opted-out', false);
    const streams = broker.get(MetadataService).state.streams;
    expect(streams.get('by-default')!.config.encryption).toBe(true);
    expect(streams.get('opted-out')!.config.encryption).toBe(false);
    await publish(adapters, 'by-default', ['default-sealed']);
    expect((await storedBytes(broker, 'by-default')).includes('default-sealed')).toBe(false);
    await stopMemoryBroker(broker);
  });

  it('answers ENCRYPTION and stores nothing when values cannot be sealed (restarted without the key)', async () => {
    const adapters = freshAdapters();
    const first = await startMemoryBroker(adapters, memorySettings(), undefined, keyed(KEY));
    await create(first, 'secret', true);
    await publish(adapters, 'secret', ['before']);
    await stopMemoryBroker(first);
    const keyless = await startMemoryBroker(restartedAdapters(adapters), memorySettings(), undefined, keyed(null));
    const acks = await publish(adapters, 'secret', ['refused-1', 'refused-2']);
    expect(acks.map((a) => a.ackError)).toEqual([AckError.ENCRYPTION, AckError.ENCRYPTION]);
    expect(logOf(keyless, 'secret').newestOffset).toBe(0);
    const { values, end } = await read(keyless, 'secret');
    expect(values).toEqual([]);
    expect(end).toEqual({ kind: 'DecryptionFailed', offset: 0, reason: expect.stringContaining('LIFTBRIDGE_ENCRYPTION_KEY is not set') as unknown });
    await stopMemoryBroker(keyless);
  });

  it('a new data key per leader; with another master key old values end that reader only, new ones read', async () => {
    let adapters = freshAdapters();
    const first = await startMemoryBroker(adapters, memorySettings(), undefined, keyed(KEY));
    await create(first, 'secret', true);
    await publish(adapters, 'secret', ['one', 'two']);
    await stopMemoryBroker(first);

    adapters = restartedAdapters(adapters);
    const same = await startMemoryBroker(adapters, memorySettings(), undefined, keyed(KEY));
    await publish(adapters, 'secret', ['three']);
    const entries = decodeMessageSet(await storedBytes(same, 'secret'));
    const wrapped = entries.map((e) => e.value!.subarray(1, 41).toString('hex'));
    expect(wrapped[0]).toBe(wrapped[1]);
    expect(wrapped[2]).not.toBe(wrapped[0]);
    expect((await read(same, 'secret')).values).toEqual(['one', 'two', 'three']);
    await stopMemoryBroker(same);

    const other = await startMemoryBroker(restartedAdapters(adapters), memorySettings(), undefined, keyed(OTHER_KEY));
    await publish(adapters, 'secret', ['four']);
    const old = await read(other, 'secret');
    expect(old.values).toEqual([]);
    expect(old.end).toEqual({ kind: 'DecryptionFailed', offset: 0, reason: expect.stringContaining("does not unwrap with this server's master key") as unknown });
    expect(await read(other, 'secret', 3)).toEqual({ values: ['four'], end: { kind: 'StopOffsetReached' } });
    await stopMemoryBroker(other);
  });

  it('a damaged value ends the reader that reaches it after the values before it; the partition goes on', async () => {
    const adapters = freshAdapters();
    const broker = await startMemoryBroker(adapters, memorySettings(), undefined, keyed(KEY));
    await create(broker, 'secret', true);
    await publish(adapters, 'secret', ['a', 'b']);
    // A value that was never sealed (another writer, or bytes altered along with their CRC).
    const log = logOf(broker, 'secret');
    await log.append([{ key: null, value: Buffer.from('not sealed at all'), headers: null, subject: 'secret', reply: '' }], 1n, 1).durable;
    log.setHighWatermark(2);
    await publish(adapters, 'secret', ['d']);
    const reader = await read(broker, 'secret');
    expect(reader.values).toEqual(['a', 'b']);
    expect(reader.end).toEqual({ kind: 'DecryptionFailed', offset: 2, reason: expect.stringContaining('not a sealed value') as unknown });
    expect(await read(broker, 'secret', 3)).toEqual({ values: ['d'], end: { kind: 'StopOffsetReached' } });
    expect((await publish(adapters, 'secret', ['e']))[0]!.offset).toBe(4);
    await stopMemoryBroker(broker);
  });

  it('counts what sealing adds against the size limit (TOO_LARGE), on encrypted streams only', async () => {
    const adapters = freshAdapters();
    const broker = await startMemoryBroker(adapters, memorySettings({ replicationMaxBytes: 400 }), undefined, keyed(KEY));
    await create(broker, 'secret', true);
    await create(broker, 'clear', false);
    const value = 'x'.repeat(250); // fits the limit in clear, not with the 69 bytes sealing adds
    expect((await publish(adapters, 'clear', [value]))[0]!.ackError).toBe(AckError.OK);
    expect((await publish(adapters, 'secret', [value]))[0]!.ackError).toBe(AckError.TOO_LARGE);
    expect((await publish(adapters, 'secret', ['x'.repeat(150)]))[0]!.ackError).toBe(AckError.OK);
    await stopMemoryBroker(broker);
  });
});
