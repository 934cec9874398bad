export { MemoryOrgDirectory } from './memory-org-directory.ts';
export {
  MemoryTableStore,
  type MemoryTableStoreOptions,
  type StoreStats,
  toAppwriteDate,
} from './memory-table-store.ts';
