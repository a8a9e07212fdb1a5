import { MetadataService } from '../../../../src/application/metadata/metadata-service';
import { RaftMetadataLog } from '../../../../src/application/metadata/raft-metadata-log';
import { InMemoryRaftHub } from '../../../../src/adapters/outbound/memory/in-memory-raft-transport';
import { InMemoryRaftStorage } from '../../../../src/adapters/outbound/memory/in-memory-raft-storage';
import { encodeMetadataProposal } from '../../../../src/domain/metadata/schema/proposal-codec';
import { capturingLogger } from '../../../support/capturing-logger';
import { memorySettings } from '../../../support/memory-broker';
import { testRaftConfig } from '../../../support/raft-configs';
import { VirtualTime } from '../../../support/virtual-time';

describe('a committed metadata entry this server cannot read (docs/raft.md "Metadata schema")', () => {
  it('stops the metadata log with an error naming the entry, instead of skipping it', async () => {
    const storage = new InMemoryRaftStorage();
    const register = encodeMetadataProposal({ proposalId: 'a:x:1', events: [{ type: 'BrokerRegistered', data: { id: 'a', host: 'h', port: 1 } }], expectations: [] });
    const newer = JSON.stringify({ v: 99, p: { proposalId: 'a:x:2', events: [], expectations: [] } });
    await storage.save({ term: 1, vote: 'a', commit: 2 }, [
      { index: 1, term: 1, type: 'normal', data: register },
      { index: 2, term: 1, type: 'normal', data: newer },
    ]);
    const time = new VirtualTime();
    const { logger, lines } = capturingLogger();
    const log = new RaftMetadataLog(
      { config: testRaftConfig('a', ['a'], 7), storage, transport: new InMemoryRaftHub().connect('a'), scheduler: time, logger },
      { tickMs: 5, messagesQueuedMax: 64, proposalsQueuedMax: 64, proposeTimeoutMs: 1000, snapshotThreshold: 0 },
    );
    const service = new MetadataService(log, memorySettings({ serverId: 'a' }), time, logger);
    try {
      const started = await service.start().then(() => 'started', (error: unknown) => String(error));
      // Entry 1 applied; entry 2 not skipped but refused, and the log takes no proposals after it.
      expect(service.state.lastAppliedIndex).toBe(1);
      expect(service.state.brokers.has('a')).toBe(true);
      const reported = `${started} ${JSON.stringify(lines)}`;
      expect(reported).toMatch(/metadata log entry 2 \(term 1\) cannot be read: invalid metadata proposal: unknown schema version 99/);
      await expect(service.execute({ type: 'RegisterBroker', data: { id: 'b', host: 'h', port: 2 } })).rejects.toThrow();
    } finally {
      await service.stop();
      await log.close();
    }
  });
});
