import { InMemoryPartitionLogStore } from '../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { describePartitionLogContract } from './partition-log.contract';

describePartitionLogContract('in-memory', async () => {
  const store = new InMemoryPartitionLogStore();
  return { store, reopen: async () => store, cleanup: async () => undefined };
});
