import { errors, ID_PATTERN } from 'resilience-core';
import { breakerNameSchema } from 'resilience-core/circuit-breaker';
import type { RolloutView } from 'resilience-core/deployment';
import { decideIncreaseRequest } from 'resilience-core/quota';
import { z } from 'zod';
import type { LiveSystem } from './live-system.ts';

/**
 * The console's state-changing actions. Each one calls the same core API the functions' admin routes call
 * (the breaker's `isolate`/`reset`, the queue's `redrive`/`cancel`, `decideIncreaseRequest`, the rollout
 * orchestrator's `start`/`requestRollback`), so each is audited where the core audits: breaker transitions bump
 * the shared state version, job history gets REDRIVEN/CANCELLED records, quota decisions write `quota-audit`
 * rows with `decidedBy`, rollouts write their history entries.
 */

const id = z.string().regex(ID_PATTERN);
const scope = z.string().min(1).max(64).nullable().optional();
const note = z.string().max(500).optional();

/** Body schemas, by action name. */
export const actionSchemas = {
  'breaker.isolate': z
    .object({ name: breakerNameSchema, scope, reason: z.string().min(1).max(200).optional() })
    .strict(),
  'breaker.reset': z.object({ name: breakerNameSchema, scope }).strict(),
  'job.redrive': z.object({ jobId: id }).strict(),
  'job.cancel': z.object({ jobId: id }).strict(),
  'increase.approve': z.object({ requestId: id, orgId: id, note }).strict(),
  'increase.reject': z.object({ requestId: id, orgId: id, note }).strict(),
  'rollout.start': z.object({ functionId: id, deploymentId: id, force: z.boolean().default(false) }).strict(),
  'rollout.rollback': z.object({ functionId: id, reason: z.string().min(1).max(300).optional() }).strict(),
} as const;

/** An action name. */
export type ActionName = keyof typeof actionSchemas;

/** Who acts, as recorded by the core (`decidedBy`, rollout history). */
export const CONSOLE_ACTOR = 'ops-console';

/** Rollouts this process started and is driving (so the page can show them as they happen). */
const running = new Map<string, Promise<RolloutView>>();

/** Runs one action; bad input is INVALID_INPUT with the field issues, nothing changed. */
export async function runAction(sys: LiveSystem, name: string, raw: unknown): Promise<unknown> {
  if (!(name in actionSchemas)) throw errors.notFound(`unknown action ${name}`);
  const schema = actionSchemas[name as ActionName];
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw errors.invalidInput(
      `invalid ${name} request`,
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    );
  }
  const body = parsed.data as Record<string, unknown>;
  const now = sys.clock.now();
  switch (name as ActionName) {
    case 'breaker.isolate': {
      const b = sys.breakers.get(String(body.name), (body.scope as string | null | undefined) ?? null);
      await b.isolate(String(body.reason ?? `isolated by ${CONSOLE_ACTOR}`));
      return b.snapshot();
    }
    case 'breaker.reset': {
      const b = sys.breakers.get(String(body.name), (body.scope as string | null | undefined) ?? null);
      await b.reset();
      return b.snapshot();
    }
    case 'job.redrive':
      return sys.queue.redrive(String(body.jobId));
    case 'job.cancel':
      return sys.queue.cancel(String(body.jobId));
    case 'increase.approve':
    case 'increase.reject':
      return decideIncreaseRequest(
        sys.store,
        { userId: CONSOLE_ACTOR, orgId: String(body.orgId), isAdmin: true },
        String(body.requestId),
        name === 'increase.approve' ? 'approved' : 'rejected',
        (body.note as string | undefined) ?? `by ${CONSOLE_ACTOR}`,
        now,
      );
    case 'rollout.start': {
      const functionId = String(body.functionId);
      if (running.has(functionId))
        throw errors.conflict(`a rollout of ${functionId} is running in this console`);
      const run = sys.orchestrator.start(
        { functionId, deploymentId: String(body.deploymentId) },
        { forceSlo: body.force === true },
      );
      running.set(functionId, run);
      run.finally(() => running.delete(functionId)).catch(() => {});
      // Refusals (bad input, a busy function, an exhausted error budget) come before anything is written.
      const early = await Promise.race([
        run.then((view) => ({ view })),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 1500)),
      ]);
      return early ? early.view : { functionId, status: 'running' };
    }
    case 'rollout.rollback': {
      const outcome = await sys.orchestrator.requestRollback(
        String(body.functionId),
        String(body.reason ?? `rollback from ${CONSOLE_ACTOR}`),
      );
      return outcome;
    }
  }
}
