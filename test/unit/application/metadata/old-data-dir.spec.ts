import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetadataService } from '../../../../src/application/metadata/metadata-service';
import { RaftMetadataLog } from '../../../../src/application/metadata/raft-metadata-log';
import { FilesystemRaftStorage } from '../../../../src/adapters/outbound/filesystem/raft/filesystem-raft-storage';
import { InMemoryRaftHub } from '../../../../src/adapters/outbound/memory/in-memory-raft-transport';
import { decodeMetadataSnapshot, encodeMetadataSnapshot } from '../../../../src/domain/metadata/metadata-snapshot';
import { memorySettings, silentLogger } from '../../../support/memory-broker';
import { testRaftConfig } from '../../../support/raft-configs';
import { VirtualTime } from '../../../support/virtual-time';

const FIXTURE = path.join(__dirname, '../../../fixtures/metadata-data-dir-v1');

/** Versions are bookkeeping for expectations, not part of what the state says: left out of the comparison. */
function withoutVersions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVersions);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'version').map(([key, v]) => [key, withoutVersions(v)]));
}

describe('a metadata data dir written before the aggregates (test/fixtures/metadata-data-dir-v1)', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'old-metadata-'));
    fs.cpSync(path.join(FIXTURE, 'raft'), path.join(dir, 'raft'), { recursive: true });
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('replays every entry with the outcome it had and ends in the same state', async () => {
    const time = new VirtualTime();
    const storage = new FilesystemRaftStorage({ dir: path.join(dir, 'raft'), logger: silentLogger });
    const log = new RaftMetadataLog(
      { config: testRaftConfig('a', ['a'], 7), storage, transport: new InMemoryRaftHub().connect('a'), scheduler: time, logger: silentLogger },
      { tickMs: 5, messagesQueuedMax: 4096, proposalsQueuedMax: 64, proposeTimeoutMs: 4000, snapshotThreshold: 0 },
    );
    const service = new MetadataService(log, memorySettings({ serverId: 'a' }), time, silentLogger);
    const outcomes: string[] = [];
    service.applied$.subscribe((e) => {
      if (e.kind === 'proposal') outcomes.push(`${e.index} ${e.proposal.events.map((x) => x.type).join(',')} ${e.outcome.kind}`);
    });
    try {
      await service.start();
      const expectedOutcomes = fs.readFileSync(path.join(FIXTURE, 'applied.txt'), 'utf8').trim().split('\n');
      // The snapshot holds entries 1-6; the rest are replayed one by one.
      expect(outcomes).toEqual(expectedOutcomes.filter((line) => Number(line.split(' ')[0]) > 6));
      // Written as a schema 1 snapshot: decoding it also checks that this version still reads those.
      const expectedState = decodeMetadataSnapshot(fs.readFileSync(path.join(FIXTURE, 'expected-state.json'), 'utf8'));
      const comparable = (state: typeof expectedState): unknown => withoutVersions(JSON.parse(encodeMetadataSnapshot(state)));
      expect(comparable(service.state)).toEqual(comparable(expectedState));
    } finally {
      await service.stop();
      await log.close();
      await storage.close();
    }
  });
});
