import { FetchMetadataResponse, StreamMetadataError } from '../../../src/protocol/api-types';
import { Metadata } from '../../../src/client/metadata-cache';

const partition = (id: number, leader: string, isr: string[] = [leader]) => ({
  id, leader, replicas: isr, isr, highWatermark: -1n, newestOffset: -1n, paused: false, readonly: false,
});

const response = (streams: FetchMetadataResponse['streamMetadata']): FetchMetadataResponse => ({
  brokers: [
    { id: 'a', host: 'h1', port: 1, partitionCount: 0, leaderCount: 0 },
    { id: 'b', host: 'h2', port: 2, partitionCount: 0, leaderCount: 0 },
  ],
  streamMetadata: streams,
  groupMetadata: [],
});

const stream = (name: string, partitions: ReturnType<typeof partition>[]) => ({
  name,
  subject: `${name}.s`,
  error: StreamMetadataError.OK,
  partitions: Object.fromEntries(partitions.map((p) => [p.id, p])),
  creationTimestamp: 1n,
});

describe('Metadata', () => {
  const metadata = new Metadata(
    response([stream('s', [partition(0, 'a'), partition(1, 'b', ['b', 'a'])]), { name: 'gone', subject: '', error: StreamMetadataError.UNKNOWN_STREAM, partitions: {}, creationTimestamp: 0n }]),
    0,
  );

  it('resolves broker and leader addresses and partition counts', () => {
    expect(metadata.addresses()).toEqual(['h1:1', 'h2:2']);
    expect(metadata.partitionCount('s')).toBe(2);
    expect(metadata.leaderAddress('s', 0)).toBe('h1:1');
    expect(metadata.leaderAddress('s', 1)).toBe('h2:2');
    expect(['h1:1', 'h2:2']).toContain(metadata.leaderAddress('s', 1, true));
    expect(metadata.leaderAddress('s', 5)).toBeUndefined();
  });

  it('ignores unknown streams', () => {
    expect(metadata.stream('gone')).toBeUndefined();
    expect(metadata.partitionCount('gone')).toBeUndefined();
  });

  it('merges a partial refresh: updated and removed streams, others kept', () => {
    const base = new Metadata(response([stream('s', [partition(0, 'a')]), stream('t', [partition(0, 'a')])]), 0);
    const merged = base.merge(
      response([stream('s', [partition(0, 'b')]), { name: 't', subject: '', error: StreamMetadataError.UNKNOWN_STREAM, partitions: {}, creationTimestamp: 0n }]),
      ['s', 't'],
      1,
    );
    expect(merged.leaderAddress('s', 0)).toBe('h2:2');
    expect(merged.stream('t')).toBeUndefined();
    const kept = base.merge(response([stream('u', [partition(0, 'a')])]), ['u'], 1);
    expect(kept.stream('s')).toBeDefined();
    expect(kept.stream('u')).toBeDefined();
  });
});
