import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { contractTable, describeTableStoreContract } from 'resilience-core/testing';

describeTableStoreContract('memory', async () => ({
  store: new MemoryTableStore({ unique: { [contractTable.$id]: [['slug']] } }),
}));
