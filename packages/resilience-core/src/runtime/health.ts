import { messageOf } from '../error-classification.ts';
import type { Clock } from '../ports/clock.ts';
import { withTimeout } from '../retry/timeout.ts';
import { redact } from './logger.ts';
import type { RouteResult } from './responses.ts';
import type { FunctionDefinition, HealthReport, SetupContext } from './types.ts';

/** What {@link runHealth} needs of the execution. */
export interface HealthInput<D> {
  definition: Pick<FunctionDefinition<never, D>, 'name' | 'version' | 'setup' | 'health' | 'healthTimeoutMs'>;
  /** The cold start's env parse. */
  env: { ok: true } | { ok: false; error: unknown };
  deploymentId: string;
  /** Values scrubbed from check errors (`/health` answers anyone who may execute the function). */
  secrets: readonly string[];
  setup: () => SetupContext<never>;
  clock: Clock;
}

/**
 * `GET /health`: the env parse, then `setup`, then every named check at once, each bounded by
 * `healthTimeoutMs` (default 3000) on the injected clock. 200 when all pass, else 503; check errors are
 * redacted like log lines.
 */
export async function runHealth<D>(input: HealthInput<D>): Promise<RouteResult> {
  const { definition, clock } = input;
  const checks: HealthReport['checks'] = {};
  const errorText = (error: unknown) => String(redact(messageOf(error), input.secrets));
  const timeoutMs = definition.healthTimeoutMs ?? 3000;
  if (!input.env.ok) {
    checks.env = { ok: false, durationMs: 0, error: errorText(input.env.error) };
  } else {
    checks.env = { ok: true, durationMs: 0 };
    const named = Object.entries(definition.health ?? {});
    let deps: D | undefined;
    const setupStarted = clock.now();
    try {
      deps = await definition.setup(input.setup() as never);
      if (named.length === 0) checks.setup = { ok: true, durationMs: clock.now() - setupStarted };
    } catch (error) {
      checks.setup = { ok: false, durationMs: clock.now() - setupStarted, error: errorText(error) };
    }
    if (deps !== undefined) {
      await Promise.all(
        named.map(async ([name, check]) => {
          const t0 = clock.now();
          try {
            await withTimeout(() => check(deps as D), timeoutMs, { clock, what: `health check ${name}` });
            checks[name] = { ok: true, durationMs: clock.now() - t0 };
          } catch (error) {
            checks[name] = { ok: false, durationMs: clock.now() - t0, error: errorText(error) };
          }
        }),
      );
    }
  }
  const ok = Object.values(checks).every((c) => c.ok);
  const report: HealthReport = {
    name: definition.name,
    deploymentId: input.deploymentId,
    version: definition.version,
    status: ok ? 'ok' : 'fail',
    checks,
  };
  return { status: ok ? 200 : 503, body: report };
}
