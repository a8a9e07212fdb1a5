import { InMemoryRaftStorage } from '../../src/adapters/outbound/memory/in-memory-raft-storage';
import { describeRaftStorageContract } from './raft-storage.contract';

describeRaftStorageContract('in-memory', async () => ({ storage: new InMemoryRaftStorage(), cleanup: async () => undefined }));
