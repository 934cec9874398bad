/** The operations console: `startOpsConsole` (HTTP server, panels, actions, `GET /metrics`). */
export { type ActionName, actionSchemas, runAction } from './actions.ts';
export { APPWRITE_COUNT_CAP, appwriteExecutionCounter } from './execution-counter.ts';
export { ConsoleHub, type SeriesPoint } from './hub.ts';
export { type CallCounter, createLiveSystem, type LiveSystem, type OpsConnection } from './live-system.ts';
export { renderMetrics } from './metrics.ts';
export { type ConsoleState, loadState } from './panels.ts';
export { checkRequest, createSecurity, isLoopback } from './security.ts';
export { type OpsConsole, type OpsConsoleOptions, startOpsConsole } from './server.ts';
