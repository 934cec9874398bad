/**
 * The common core every service shares: errors, ids, the ports (clock, org directory, table store), schema helpers
 * and the table list. Each service has its own entry point: `resilience-core/<service>` (see package.json `exports`).
 */

export { describeError, errorText, messageOf } from './error-classification.ts';
export {
  type ErrorCode,
  errorStatus,
  errors,
  type FieldIssue,
  hasCode,
  isResilienceError,
  ResilienceError,
  type ResilienceErrorOptions,
} from './errors.ts';
export { ID_MESSAGE, ID_PATTERN, NAME_PATTERN, newId, stableId } from './ids.ts';
export { type Clock, systemClock } from './ports/clock.ts';
export { isMember, isOrgAdmin, ORG_ADMIN_ROLES, type OrgDirectory } from './ports/org-directory.ts';
export {
  type Condition,
  type IncrementBound,
  LIST_DEFAULT_LIMIT,
  LIST_MAX_LIMIT,
  type ListOptions,
  type ListResult,
  listAll,
  type MetaField,
  type OrderBy,
  orderForCommit,
  type Row,
  type RowData,
  type RowMeta,
  type Scalar,
  type TableStore,
  type WriteOp,
  type WriteOptions,
} from './ports/table-store.ts';
export { lazySchema } from './schema/lazy-schema.ts';
export {
  type ColumnSpec,
  type ColumnType,
  counterSpecProblems,
  counterStartOf,
  DATABASE_ID,
  type IndexSpec,
  type TableSpec,
  uniqueIndexesOf,
} from './schema/table-spec.ts';
export { allTables } from './tables.ts';
