import { ID_PATTERN, lazySchema } from 'resilience-core';
import { cursorSchema } from 'resilience-core/runtime';
import { z } from 'zod';

/**
 * Request bodies of the deploy-orchestrator routes. Code travels base64-encoded in the JSON body (an execution
 * body is at most 10 MB on Appwrite, so archives up to ~7 MB; larger code: upload it first and pass its
 * `deploymentId`). Thresholds are validated by the core (`rolloutPolicySchema`), not here.
 */

const id = lazySchema(() => z.string().regex(ID_PATTERN, 'must be an Appwrite id'));

/** Code as sent over the wire. */
export const wireCodeSchema = lazySchema(() =>
  z
    .object({
      /** The tar.gz archive, base64. */
      archiveBase64: z
        .string()
        .min(1)
        .max(10 * 1024 * 1024),
      entrypoint: z.string().min(1).max(1024),
      commands: z.string().max(8000).optional(),
    })
    .strict(),
);

/** Run-time budget of one execution, ms (capped by the function's env). */
const maxRunMs = lazySchema(() => z.number().int().min(1_000).max(900_000).optional());

/** `POST /rollouts`. */
export const startBodySchema = lazySchema(() =>
  z
    .object({
      functionId: id,
      code: wireCodeSchema.optional(),
      deploymentId: id.optional(),
      standbyFunctionId: id.optional(),
      skipHealthCheck: z.boolean().optional(),
      autoRollback: z.boolean().optional(),
      policy: z.record(z.string(), z.unknown()).optional(),
      /** Start even when an SLO's error budget is exhausted (recorded in the first history entry). */
      forceSlo: z.boolean().optional(),
      maxRunMs,
    })
    .strict(),
);

/** `POST /rollouts/resume`. */
export const resumeBodySchema = lazySchema(() =>
  z.object({ functionId: id, code: wireCodeSchema.optional(), maxRunMs }).strict(),
);

/** `POST /rollouts/rollback`. */
export const rollbackBodySchema = lazySchema(() =>
  z
    .object({ functionId: id, reason: z.string().min(1).max(500).default('manual rollback'), maxRunMs })
    .strict(),
);

/** `GET /functions/:functionId/rollouts` query. */
export const historyQuerySchema = lazySchema(() =>
  z
    .object({
      limit: z.coerce.number().int().min(1).max(100).optional(),
      /** Opaque, bound to the function's history (resilience-core ports/cursor.ts). */
      cursor: cursorSchema.optional(),
    })
    .strict(),
);

export type StartBody = z.output<typeof startBodySchema>;
export type ResumeBody = z.output<typeof resumeBodySchema>;
export type RollbackBody = z.output<typeof rollbackBodySchema>;
export type HistoryQuery = z.output<typeof historyQuerySchema>;
