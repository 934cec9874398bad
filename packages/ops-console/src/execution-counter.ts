/**
 * The SLO evaluation's Appwrite counter lives in the core's Appwrite adapter (the rollout gate of
 * `npm run rollout`, `npm run deploy` and the deploy-orchestrator function uses it too); re-exported here for
 * the console's callers.
 */
export { APPWRITE_COUNT_CAP, appwriteExecutionCounter } from 'resilience-core/adapters/appwrite';
