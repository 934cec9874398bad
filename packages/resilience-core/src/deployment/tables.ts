import type { TableSpec } from '../schema/table-spec.ts';
import {
  eventRowSchema,
  lockRowSchema,
  ROLLOUT_EVENT_LEVELS,
  ROLLOUT_STATUSES,
  rolloutRowSchema,
} from './rollout-row.ts';

/**
 * Tables of the blue-green orchestrator:
 * - `deployments-rollouts`: one row per rollout, its resumable state (see `rollout-row.ts`).
 * - `deployments-locks`: one row per function with a rollout in progress (id `stableId('lock', functionId)`),
 *   the lease that allows one rollout per function; its `version` is bumped by every write of the holder.
 * - `deployments-events`: the append-only history of every rollout (transitions, checks, figures).
 */

/** Table id of rollout rows. */
export const ROLLOUTS_TABLE = 'deployments-rollouts';
/** Table id of rollout locks. */
export const LOCKS_TABLE = 'deployments-locks';
/** Table id of rollout events. */
export const EVENTS_TABLE = 'deployments-events';

const id = (key: string, required = true) => ({ key, type: 'string' as const, size: 36, required });
const ms = (key: string, required = false) => ({ key, type: 'integer' as const, required, min: 0 });

/** The rollout state table. */
export const rolloutsTable: TableSpec = {
  $id: ROLLOUTS_TABLE,
  name: 'Deployment rollouts',
  columns: [
    id('functionId'),
    id('standbyFunctionId', false),
    {
      key: 'status',
      type: 'string',
      size: 16,
      required: true,
      format: 'enum',
      elements: [...ROLLOUT_STATUSES],
    },
    id('blueDeploymentId', false),
    id('greenDeploymentId', false),
    id('standbyDeploymentId', false),
    { key: 'codeSha256', type: 'string', size: 64, required: false },
    { key: 'entrypoint', type: 'string', size: 1024, required: false },
    { key: 'skipHealthCheck', type: 'boolean', required: true },
    { key: 'autoRollback', type: 'boolean', required: true },
    { key: 'policy', type: 'string', size: 20000, required: true },
    { key: 'validation', type: 'string', size: 20000, required: false },
    { key: 'watch', type: 'string', size: 2000, required: false },
    { key: 'reason', type: 'string', size: 2000, required: false },
    { key: 'abortRequested', type: 'boolean', required: false, default: false },
    { key: 'abortReason', type: 'string', size: 500, required: false },
    ms('startedAt', true),
    ms('buildStartedAt'),
    ms('switchStartedAt'),
    ms('switchedAt'),
    ms('watchUntil'),
    ms('rollbackStartedAt'),
    ms('finishedAt'),
    { key: 'switchCalls', type: 'integer', required: false, min: 0 },
    { key: 'switchMs', type: 'integer', required: false, min: 0 },
    { key: 'rollbackCalls', type: 'integer', required: false, min: 0 },
    { key: 'rollbackMs', type: 'integer', required: false, min: 0 },
    { key: 'runs', type: 'integer', required: false, min: 0, default: 0 },
  ],
  indexes: [
    { key: 'by_function', type: 'key', columns: ['functionId'] },
    { key: 'by_function_status', type: 'key', columns: ['functionId', 'status'] },
  ],
  rowSchema: rolloutRowSchema,
};

/** The per-function lock table. */
export const locksTable: TableSpec = {
  $id: LOCKS_TABLE,
  name: 'Deployment rollout locks',
  columns: [
    id('functionId'),
    id('rolloutId'),
    { key: 'owner', type: 'string', size: 64, required: true },
    ms('expiresAt', true),
    { key: 'version', type: 'integer', required: true, min: 0, counter: true },
  ],
  indexes: [{ key: 'unique_function', type: 'unique', columns: ['functionId'] }],
  rowSchema: lockRowSchema,
};

/** The rollout history table. */
export const eventsTable: TableSpec = {
  $id: EVENTS_TABLE,
  name: 'Deployment rollout events',
  columns: [
    id('rolloutId'),
    id('functionId'),
    ms('at', true),
    {
      key: 'status',
      type: 'string',
      size: 16,
      required: true,
      format: 'enum',
      elements: [...ROLLOUT_STATUSES],
    },
    {
      key: 'level',
      type: 'string',
      size: 8,
      required: true,
      format: 'enum',
      elements: [...ROLLOUT_EVENT_LEVELS],
    },
    { key: 'message', type: 'string', size: 1000, required: true },
    { key: 'details', type: 'string', size: 8000, required: false },
  ],
  indexes: [
    { key: 'by_rollout', type: 'key', columns: ['rolloutId'] },
    { key: 'by_function', type: 'key', columns: ['functionId'] },
  ],
  rowSchema: eventRowSchema,
};

/** Every table of the deployment service. */
export const deploymentTables: TableSpec[] = [rolloutsTable, locksTable, eventsTable];
