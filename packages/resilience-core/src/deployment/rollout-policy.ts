import { z } from 'zod';
import { backoffDelay } from '../retry/backoff.ts';
import { lazySchema } from '../schema/lazy-schema.ts';
import { jsonShapeSchema } from './json-shape.ts';

/**
 * Rollout policy: every threshold and deadline of a rollout, zod-validated at the edge (bad thresholds are
 * refused before anything changes) and stored with the rollout so a resumed run judges by the same rules.
 * Modelled on the ideas of Argo Rollouts' analysis (a minimum sample count before a verdict, fail fast on a
 * clear failure) and CodeDeploy's before/after-traffic hooks (validation before the switch, watch after).
 */

/** A request run on the standby twin before the switch, with what it must answer. */
export const smokeRequestSchema = lazySchema(() =>
  z
    .object({
      /** Label shown in progress and history. Default `METHOD path`. */
      name: z.string().min(1).max(80).optional(),
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
      path: z.string().startsWith('/').max(2048),
      headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string()).optional(),
      /** Request body, sent as given (JSON-encode it yourself). */
      body: z.string().max(100_000).optional(),
      /** Accepted HTTP statuses. Default 200. */
      expectStatus: z
        .union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)])
        .default(200),
      /** Expected JSON shape of the response body (see `json-shape.ts`); not checked when absent. */
      expectShape: jsonShapeSchema.optional(),
    })
    .strict(),
);

/** A smoke request as given (defaults not applied). */
export type SmokeRequestInput = z.input<typeof smokeRequestSchema>;
/** A smoke request with defaults applied. */
export type SmokeRequest = z.output<typeof smokeRequestSchema>;

/** Every knob of a rollout. All durations in milliseconds. */
export const rolloutPolicySchema = lazySchema(() =>
  z
    .object({
      /** How long to wait for a build to reach `ready` before giving up (the rollout fails, nothing switched). */
      buildTimeoutMs: z.number().int().min(1_000).max(3_600_000).default(600_000),
      /** First poll delay while waiting for a build; doubles per poll up to `buildPollMaxMs`, with jitter. */
      buildPollInitialMs: z.number().int().min(50).max(60_000).default(500),
      buildPollMaxMs: z.number().int().min(50).max(120_000).default(5_000),
      /** Path of the health route probed on the twin before the switch and on the live function after it. */
      healthPath: z.string().startsWith('/').max(2048).default('/health'),
      /** Extra requests run on the standby twin before the switch. */
      smokeRequests: z.array(smokeRequestSchema).max(20).default([]),
      /** After the switch: how many executions must report the green deployment id (attempts bounded below). */
      switchVerifyAttempts: z.number().int().min(1).max(50).default(5),
      /** Length of the watch after the switch. */
      watchWindowMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
      /** Time between watch evaluations (the "watch interval"); a failing version is rolled back within one. */
      watchIntervalMs: z.number().int().min(100).max(600_000).default(5_000),
      /** Fewer executions than this in the window is no evidence: probes fill in, and a verdict waits. */
      minSamples: z.number().int().min(1).max(1_000).default(10),
      /** Synthetic probes (GET healthPath) sent per evaluation at most, to reach `minSamples`. */
      maxProbesPerInterval: z.number().int().min(0).max(100).default(10),
      /** Probes sent in an interval that brought no new execution, so an idle function stays under watch. */
      idleProbes: z.number().int().min(0).max(100).default(1),
      /** Error rate (executions failed or answering >= 500, over all in the window) above which green fails. */
      maxErrorRate: z.number().min(0).max(1).default(0.05),
      /** 95th-percentile execution duration above which green fails. */
      maxP95LatencyMs: z.number().int().min(1).max(900_000).default(5_000),
      /** Lock lease: a rollout whose orchestrator has not renewed for this long may be taken over. */
      lockTtlMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
      /**
       * What the next run does with a rollout whose orchestrator died while watching (or switching):
       * `resume` finishes the watch (a switch is always finished first), `rollback` reactivates blue.
       */
      resumePolicy: z.enum(['resume', 'rollback']).default('resume'),
    })
    .strict()
    .superRefine((p, ctx) => {
      if (p.buildPollMaxMs < p.buildPollInitialMs)
        ctx.addIssue({ code: 'custom', path: ['buildPollMaxMs'], message: 'must be >= buildPollInitialMs' });
      if (p.watchIntervalMs > p.watchWindowMs)
        ctx.addIssue({ code: 'custom', path: ['watchIntervalMs'], message: 'must be <= watchWindowMs' });
      if (p.lockTtlMs < 2 * Math.max(p.watchIntervalMs, p.buildPollMaxMs))
        ctx.addIssue({
          code: 'custom',
          path: ['lockTtlMs'],
          message:
            'must be at least twice watchIntervalMs and buildPollMaxMs (the lock is renewed once per step)',
        });
    }),
);

/** Policy as given by a caller (every field optional). */
export type RolloutPolicyInput = z.input<typeof rolloutPolicySchema>;
/** Policy with defaults applied. */
export type RolloutPolicy = z.output<typeof rolloutPolicySchema>;

/** Poll delay for attempt `n` (0-based): {@link backoffDelay} with `jitter: 'band'` (±20 %), capped at `maxMs`. */
export function rolloutBackoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number,
): number {
  return backoffDelay(attempt + 1, { baseMs: initialMs, maxMs, jitter: 'band' }, random);
}
