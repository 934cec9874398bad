import type { SloSpec } from './slo-spec.ts';

/**
 * The SLOs of this project's functions, declared in code (the console, `GET /metrics` and the rollout gate read
 * them from here). create-recognition is the product's request path: 99.95 % available over 30 days (the
 * seed's headline, an error budget of 21.6 minutes of full outage a month) and p95 under one second.
 *
 * Written out in full (every default spelled) rather than parsed at load, so importing the module builds no
 * zod schema (the bundles' cold start, test/unit/lazy-schemas.test.ts); `slo.test.ts` checks that `defineSlos`
 * accepts the list unchanged.
 */
export const FUNCTION_SLOS: readonly SloSpec[] = [
  {
    id: 'create-recognition-availability',
    functionId: 'create-recognition',
    kind: 'availability',
    objective: 0.9995,
    windowDays: 30,
    triggers: ['http'],
    description: 'HTTP executions answered below 500',
  },
  {
    id: 'create-recognition-latency',
    functionId: 'create-recognition',
    kind: 'latency',
    objective: 0.95,
    thresholdMs: 1_000,
    windowDays: 30,
    triggers: ['http'],
    description: 'p95 of HTTP executions under 1 s',
  },
];

/** The SLOs of one function. */
export function slosOf(functionId: string, slos = FUNCTION_SLOS) {
  return slos.filter((s) => s.functionId === functionId);
}
