export {
  MemoryTableStore,
  type MemoryTableStoreOptions,
  type StoreStats,
  toAppwriteDate,
} from './memory-table-store.ts';
