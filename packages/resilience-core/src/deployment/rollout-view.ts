import { type RolloutRow, type RolloutStatus, TERMINAL_STATUSES } from './rollout-row.ts';
import { type WatchSummary, watchSummarySchema } from './watch-analysis.ts';

/** Where the blue deployment (active when the rollout began) stands. */
export type BlueStatus = 'none' | 'active' | 'standby' | 'reactivating';

/** Where the green deployment (the new code) stands. */
export type GreenStatus =
  | 'uploading'
  | 'building'
  | 'validating'
  | 'switching'
  | 'watching'
  | 'active'
  | 'rolling_back'
  | 'rolled_back'
  | 'failed';

/** A rollout as callers see it (the seed API's `state`, plus figures). */
export interface RolloutView {
  rolloutId: string;
  functionId: string;
  status: RolloutStatus;
  /** True when the rollout reached a terminal status (succeeded, rolled_back, failed). */
  done: boolean;
  /** True only for `succeeded`. */
  success: boolean;
  reason: string | null;
  skipHealthCheck: boolean;
  autoRollback: boolean;
  blue: { deploymentId: string | null; status: BlueStatus };
  green: { deploymentId: string | null; status: GreenStatus; active: boolean };
  standby: { functionId: string | null; deploymentId: string | null };
  /** The pre-switch validation report, `{ skipped: true }` when skipped, or null before it ran. */
  validation: unknown;
  watch: WatchSummary | null;
  /** API calls and wall time of the switch and the rollback (null when not done). */
  figures: {
    switch: { calls: number; ms: number } | null;
    rollback: { calls: number; ms: number } | null;
  };
  startedAt: string;
  switchedAt: string | null;
  finishedAt: string | null;
}

/** Builds the caller's view of a rollout row. */
export function toRolloutView(id: string, row: RolloutRow): RolloutView {
  const switched = row.switchedAt !== null || row.switchCalls !== null;
  return {
    rolloutId: id,
    functionId: row.functionId,
    status: row.status,
    done: TERMINAL_STATUSES.includes(row.status),
    success: row.status === 'succeeded',
    reason: row.reason,
    skipHealthCheck: row.skipHealthCheck,
    autoRollback: row.autoRollback,
    blue: { deploymentId: row.blueDeploymentId, status: blueStatus(row, switched) },
    green: {
      deploymentId: row.greenDeploymentId,
      status: greenStatus(row),
      active: greenActive(row, switched),
    },
    standby: { functionId: row.standbyFunctionId, deploymentId: row.standbyDeploymentId },
    validation: row.validation === null ? null : JSON.parse(row.validation),
    watch: row.watch === null ? null : watchSummarySchema.parse(JSON.parse(row.watch)),
    figures: {
      switch: row.switchCalls === null ? null : { calls: row.switchCalls, ms: row.switchMs ?? 0 },
      rollback: row.rollbackCalls === null ? null : { calls: row.rollbackCalls, ms: row.rollbackMs ?? 0 },
    },
    startedAt: iso(row.startedAt),
    switchedAt: row.switchedAt === null ? null : iso(row.switchedAt),
    finishedAt: row.finishedAt === null ? null : iso(row.finishedAt),
  };
}

function blueStatus(row: RolloutRow, switched: boolean): BlueStatus {
  if (row.blueDeploymentId === null) return 'none';
  if (row.status === 'rolling_back') return 'reactivating';
  if (row.status === 'rolled_back' || !switched) return 'active';
  return 'standby';
}

function greenActive(row: RolloutRow, switched: boolean): boolean {
  if (!switched) return false;
  return (
    row.status === 'watching' ||
    row.status === 'succeeded' ||
    row.status === 'switching' ||
    row.status === 'failed'
  );
}

function greenStatus(row: RolloutRow): GreenStatus {
  switch (row.status) {
    case 'pending':
      return 'uploading';
    case 'building':
      return row.greenDeploymentId === null ? 'uploading' : 'building';
    case 'succeeded':
      return 'active';
    default:
      return row.status;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
