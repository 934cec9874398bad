export {
  MemoryTableStore,
  type MemoryTableStoreOptions,
  type StoreStats,
  toAppwriteDate,
} from './memory-table-store.ts';
export { MemoryOrgDirectory } from './memory-org-directory.ts';
