/**
 * The Appwrite adapters: the TableStore over TablesDB and the OrgDirectory over Teams. The only part of the
 * core that imports node-appwrite; everything it returns or throws is port-typed.
 */
export {
  type AppwriteConnection,
  type AppwriteRequestInfo,
  type AppwriteStoreStats,
  type AppwriteTableStore,
  type AppwriteTableStoreOptions,
  createAppwriteClient,
  createAppwriteTableStore,
  type RetryOptions,
  type TablesDbApi,
} from './appwrite-table-store.ts';
export {
  type AppwriteFailure,
  isAnswer,
  isTransient,
  readFailure,
  translateAppwriteError,
} from './errors.ts';
export {
  APPWRITE_COUNT_CAP,
  type AppwriteExecutionCounterOptions,
  appwriteExecutionCounter,
} from './execution-counter.ts';
export {
  type AppwriteFunctionsPlatformOptions,
  createAppwriteFunctionsPlatform,
  createFunctionsApi,
  type FunctionsApi,
} from './functions-platform.ts';
export { createTablesDbApi, createTeamsApi } from './lean-services.ts';
export {
  findNullCounters,
  type NullCounter,
  type PlanSchemaOptions,
  type ProvisionEvent,
  type ProvisionOptions,
  type ProvisionReport,
  planSchema,
  planTable,
  provisionSchema,
  type RemoteColumn,
  type RemoteIndex,
  type RemoteTable,
  type SchemaPlan,
  type SchemaProblem,
  type TablePlan,
  type TableState,
} from './schema-provisioner.ts';
export {
  createTeamsOrgDirectory,
  type TeamsApi,
  type TeamsOrgDirectoryOptions,
} from './teams-org-directory.ts';
