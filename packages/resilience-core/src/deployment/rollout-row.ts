import { z } from 'zod';
import { lazySchema } from '../schema/lazy-schema.ts';

/**
 * The persisted shapes of the orchestrator (rows of `tables.ts`), each with its zod schema: a row read back
 * is parsed, so a corrupt row is a loud bug, not a silent wrong decision. Times are integers in milliseconds
 * since the epoch; `null` means "not reached yet".
 */

/**
 * Rollout states. Happy path: pending → building → validating → switching → watching → succeeded.
 * A watch (or switch verification) that fails: → rolling_back → rolled_back. Anything that fails before the
 * switch: → failed (nothing was switched). A manual rollback of a succeeded rollout (or of a failed one that
 * left green active): succeeded/failed → rolling_back.
 */
export const ROLLOUT_STATUSES = [
  'pending',
  'building',
  'validating',
  'switching',
  'watching',
  'succeeded',
  'rolling_back',
  'rolled_back',
  'failed',
] as const;

/** One of {@link ROLLOUT_STATUSES}. */
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

/** States no run will move on from by itself. */
export const TERMINAL_STATUSES: readonly RolloutStatus[] = ['succeeded', 'rolled_back', 'failed'];

/** States in which a run is (or should be) working on the rollout. */
export const ACTIVE_STATUSES: readonly RolloutStatus[] = ROLLOUT_STATUSES.filter(
  (s) => !TERMINAL_STATUSES.includes(s),
);

/** States before the live function was touched: failing here never needs a rollback. */
export const PRE_SWITCH_STATUSES: readonly RolloutStatus[] = ['pending', 'building', 'validating'];

/** Every transition a rollout may take (the state machine). */
export const ROLLOUT_TRANSITIONS: Readonly<Record<RolloutStatus, readonly RolloutStatus[]>> = {
  pending: ['building', 'failed'],
  building: ['validating', 'switching', 'failed'],
  validating: ['switching', 'failed'],
  switching: ['watching', 'rolling_back', 'failed'],
  watching: ['succeeded', 'rolling_back', 'failed'],
  succeeded: ['rolling_back'],
  rolling_back: ['rolled_back', 'failed'],
  rolled_back: [],
  // Only by a manual rollback, and only when the failure left green active (autoRollback off).
  failed: ['rolling_back'],
};

/** True when `from → to` is a legal transition. */
export function canTransition(from: RolloutStatus, to: RolloutStatus): boolean {
  return ROLLOUT_TRANSITIONS[from].includes(to);
}

const msOrNull = lazySchema(() => z.number().int().min(0).nullable());

/** A rollout row (`deployments-rollouts`). */
export const rolloutRowSchema = lazySchema(() =>
  z.object({
    /** The live function being rolled out. */
    functionId: z.string(),
    /** The standby twin used for pre-switch validation; `null` when validation is skipped. */
    standbyFunctionId: z.string().nullable(),
    status: z.enum(ROLLOUT_STATUSES),
    /** The deployment active when the rollout started (the rollback target); `null` if none was active. */
    blueDeploymentId: z.string().nullable(),
    /** The new deployment on the live function; `null` until its upload is recorded. */
    greenDeploymentId: z.string().nullable(),
    /** The same code's deployment on the twin; `null` until uploaded (or when validation is skipped). */
    standbyDeploymentId: z.string().nullable(),
    /** SHA-256 (hex) of the uploaded archive; a resumed run given code must give the same code. */
    codeSha256: z.string().nullable(),
    entrypoint: z.string().nullable(),
    /** Pre-switch validation skipped on request (also said in the result and history). */
    skipHealthCheck: z.boolean(),
    /** Reactivate blue by itself when the watch fails. Default true. */
    autoRollback: z.boolean(),
    /** The `RolloutPolicy` (JSON) the rollout runs under. */
    policy: z.string(),
    /** The pre-switch validation report (JSON), once run. */
    validation: z.string().nullable(),
    /** The latest watch summary (JSON `WatchSummary`). */
    watch: z.string().nullable(),
    /** Why the rollout ended as it did (or why it is rolling back). */
    reason: z.string().nullable(),
    /** A manual rollback/abort was requested while another run held the lock; that run acts on it. Default false. */
    abortRequested: z.boolean().nullable(),
    abortReason: z.string().nullable(),
    startedAt: z.number().int().min(0),
    buildStartedAt: msOrNull,
    switchStartedAt: msOrNull,
    /** When green became active (the start of the watch window). */
    switchedAt: msOrNull,
    /** End of the watch window. */
    watchUntil: msOrNull,
    rollbackStartedAt: msOrNull,
    finishedAt: msOrNull,
    /** Platform calls that changed the active deployment during the switch (target 1; 0 if a previous run did it). */
    switchCalls: z.number().int().min(0).nullable(),
    /** Wall time of the switch call, in ms. */
    switchMs: z.number().int().min(0).nullable(),
    /** Platform calls that reactivated blue (target 1). */
    rollbackCalls: z.number().int().min(0).nullable(),
    /** Wall time of the rollback call, in ms. */
    rollbackMs: z.number().int().min(0).nullable(),
    /** How many orchestrator runs have worked on this rollout. Default 0. */
    runs: z.number().int().min(0).nullable(),
  }),
);

/** See {@link rolloutRowSchema}. */
export type RolloutRow = z.infer<typeof rolloutRowSchema>;

/** A rollout lock row (`deployments-locks`). */
export const lockRowSchema = lazySchema(() =>
  z.object({
    functionId: z.string(),
    /** The rollout holding the lock. */
    rolloutId: z.string(),
    /** Identity of the run holding it (random per run). */
    owner: z.string(),
    /** Lease end, ms since epoch; after it another run may take the lock over. */
    expiresAt: z.number().int().min(0),
    /** Bumped by every write of the holder and by a takeover: a fencing token (compare-and-set). */
    version: z.number().int().min(0),
  }),
);

/** See {@link lockRowSchema}. */
export type LockRow = z.infer<typeof lockRowSchema>;

/** Event severity. */
export const ROLLOUT_EVENT_LEVELS = ['info', 'warn', 'error'] as const;

/** A history entry (`deployments-events`). */
export const eventRowSchema = lazySchema(() =>
  z.object({
    rolloutId: z.string(),
    functionId: z.string(),
    /** When it happened, ms since epoch. */
    at: z.number().int().min(0),
    /** The rollout status after this event. */
    status: z.enum(ROLLOUT_STATUSES),
    level: z.enum(ROLLOUT_EVENT_LEVELS),
    message: z.string(),
    /** JSON details (figures, check results), or null. */
    details: z.string().nullable(),
  }),
);

/** See {@link eventRowSchema}. */
export type EventRow = z.infer<typeof eventRowSchema>;
