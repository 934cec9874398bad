/**
 * appwrite-local: a local Appwrite-compatible server (the REST subset node-appwrite 27 and appwrite-cli 12 use
 * for this project) on SQLite. `startAppwriteLocal()` is the programmatic entry; bin/appwrite-local.mjs the CLI.
 */
export type { AppwriteConfig } from './config.ts';
export { ERROR_CATALOGUE } from './error-catalogue.ts';
export { AppwriteError, SERVER_VERSION } from './errors.ts';
export type { FaultAction, FaultInfo, FaultInjector, FaultRule } from './faults.ts';
export { type DeployFunctionOptions, deployFunction, packDirectory } from './functions/deploy.ts';
export type { FunctionsModule, FunctionsModuleOptions } from './functions/index.ts';
export type { TraceEntry } from './http-server.ts';
export type { AppwriteLocal, AppwriteLocalOptions } from './server.ts';
export { startAppwriteLocal } from './server.ts';
export type {
  ApiRequest,
  ApiResponse,
  AuthContext,
  EventBus,
  KeysService,
  PlatformEvent,
  ServerContext,
  ServerModule,
} from './server-context.ts';
export { type Collation, foldGeneralCi } from './tablesdb/collation.ts';
