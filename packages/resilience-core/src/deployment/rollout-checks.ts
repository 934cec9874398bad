import { messageOf } from '../error-classification.ts';
import { hasCode } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Clock } from '../ports/clock.ts';
import { forEachLimited } from '../ports/for-each-limited.ts';
import {
  type ExecutionInfo,
  type ExecutionPage,
  executionEndOf,
  type FunctionsPlatform,
} from '../ports/functions-platform.ts';
import { matchJsonShape } from './json-shape.ts';
import type { RolloutPolicy, SmokeRequest } from './rollout-policy.ts';

/**
 * The checks a rollout runs through executions: the pre-switch health check and smoke requests on the twin,
 * the post-switch "new executions run green" verification, synthetic probes, and the listing of green's
 * execution records for the watch. Every platform call goes through `call` (the orchestrator's retries).
 */

/** Result of one pre-switch check. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** HTTP status answered (0 when the execution itself failed). */
  status: number;
  problems: string[];
}

/** Sent with synthetic probes and verification executions, so they can be told apart in logs. */
export const PROBE_HEADERS = { 'x-rollout-probe': '1' };

const VERIFY_DELAY_MS = 250;
const PROBE_CONCURRENCY = 5;
const MAX_WATCH_PAGES = 10;
/** Margin for clock skew between this process and the platform when filtering records by time. */
export const CLOCK_SKEW_MS = 5_000;
/**
 * How far before the switch the listing looks for records: an async, schedule or event execution is recorded
 * when queued, so one queued up to Appwrite's longest function timeout (900 s) before it may end after it.
 */
const QUEUED_LOOKBACK_MS = 900_000;

/** Runs a platform call with the caller's retry policy. */
export type PlatformCall = <T>(fn: () => Promise<T>) => Promise<T>;

/** The execution-based checks of a rollout. */
export class RolloutChecks {
  constructor(
    private readonly platform: FunctionsPlatform,
    private readonly clock: Clock,
    private readonly call: PlatformCall,
  ) {}

  /**
   * `GET path` on `functionId`: 200, run by `deploymentId`, and (when the body reports one) a body
   * `deploymentId` equal to it.
   */
  async checkHealth(functionId: string, deploymentId: string, path: string): Promise<CheckResult> {
    const problems: string[] = [];
    let exec: ExecutionInfo;
    try {
      exec = await this.call(() => this.platform.execute(functionId, { method: 'GET', path }));
    } catch (error) {
      if (isTransient(error)) throw error; // the platform could not answer: no verdict on green
      return {
        name: `GET ${path}`,
        ok: false,
        status: 0,
        problems: [`execution failed: ${messageOf(error)}`],
      };
    }
    if (exec.responseStatusCode !== 200) problems.push(`status ${exec.responseStatusCode}, expected 200`);
    if (exec.deploymentId !== deploymentId)
      problems.push(`ran deployment ${exec.deploymentId}, expected ${deploymentId}`);
    const body = parseJson(exec.responseBody);
    const reported =
      typeof body === 'object' && body !== null
        ? (body as { deploymentId?: unknown }).deploymentId
        : undefined;
    if (typeof reported === 'string' && reported !== '' && reported !== deploymentId) {
      problems.push(`health reports deployment ${reported}, expected ${deploymentId}`);
    }
    return { name: `GET ${path}`, ok: problems.length === 0, status: exec.responseStatusCode, problems };
  }

  /** One smoke request: an accepted status and, when given, the expected JSON shape. */
  async checkSmoke(functionId: string, smoke: SmokeRequest): Promise<CheckResult> {
    const name = smoke.name ?? `${smoke.method} ${smoke.path}`;
    let exec: ExecutionInfo;
    try {
      exec = await this.call(() =>
        this.platform.execute(functionId, {
          method: smoke.method,
          path: smoke.path,
          ...(smoke.headers ? { headers: smoke.headers } : {}),
          ...(smoke.body !== undefined ? { body: smoke.body } : {}),
        }),
      );
    } catch (error) {
      if (isTransient(error)) throw error;
      return { name, ok: false, status: 0, problems: [`execution failed: ${messageOf(error)}`] };
    }
    const problems: string[] = [];
    const allowed = Array.isArray(smoke.expectStatus) ? smoke.expectStatus : [smoke.expectStatus];
    if (!allowed.includes(exec.responseStatusCode))
      problems.push(`status ${exec.responseStatusCode}, expected ${allowed.join(' or ')}`);
    if (smoke.expectShape !== undefined) {
      const body = parseJson(exec.responseBody);
      if (body === undefined) problems.push('body is not JSON');
      else problems.push(...matchJsonShape(body, smoke.expectShape).slice(0, 5));
    }
    return { name, ok: problems.length === 0, status: exec.responseStatusCode, problems };
  }

  /** Runs health executions until one reports `deploymentId` (bounded). */
  async verifyActive(
    functionId: string,
    deploymentId: string,
    policy: RolloutPolicy,
  ): Promise<{ ok: true } | { ok: false; problem: string }> {
    let problem = 'no execution ran';
    for (let i = 0; i < policy.switchVerifyAttempts; i++) {
      if (i > 0) await this.clock.sleep(VERIFY_DELAY_MS * i);
      try {
        const exec = await this.call(() =>
          this.platform.execute(functionId, {
            method: 'GET',
            path: policy.healthPath,
            headers: PROBE_HEADERS,
          }),
        );
        if (exec.deploymentId === deploymentId) return { ok: true };
        problem = `execution ${exec.id} ran ${exec.deploymentId}`;
      } catch (error) {
        if (isTransient(error)) throw error;
        problem = messageOf(error);
      }
    }
    return { ok: false, problem };
  }

  /**
   * Green's execution records on the live function that ENDED since the switch (at most 1000 records read),
   * plus those still running. Executions count by their end time: a synchronous one is recorded when it ends,
   * a queued one when it is queued (platform notes §F5), so the listing (by creation) reaches back
   * {@link QUEUED_LOOKBACK_MS} and the end time decides.
   */
  async greenExecutions(
    functionId: string,
    greenId: string,
    switchStartedAt: number,
  ): Promise<ExecutionInfo[]> {
    const out: ExecutionInfo[] = [];
    let cursor: string | null = null;
    const since = switchStartedAt - CLOCK_SKEW_MS;
    const endedInWindow = (e: ExecutionInfo) =>
      e.deploymentId === greenId &&
      (!(e.status === 'completed' || e.status === 'failed') || executionEndOf(e) >= since);
    for (let page = 0; page < MAX_WATCH_PAGES; page++) {
      const c: string | null = cursor;
      const result: ExecutionPage = await this.call(() =>
        this.platform.listExecutions(functionId, {
          deploymentId: greenId,
          createdAfter: Math.max(0, since - QUEUED_LOOKBACK_MS),
          limit: 100,
          ...(c ? { cursor: c } : {}),
        }),
      );
      out.push(...result.executions.filter(endedInWindow));
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return out;
  }

  /**
   * Sends `count` synthetic GET probes (at most {@link PROBE_CONCURRENCY} at a time). A probe that timed out
   * (`TIMEOUT`: Appwrite's 408 at its sync limit) is a failure of `deploymentId`, the deployment it was aimed
   * at: it is returned as a `failed` record with status 408 and an id of its own ({@link isProbeTimeout}); the
   * record Appwrite writes for it later is matched with it by {@link mergeProbeTimeouts}. A probe the platform
   * could not run at all (unreachable, refused) is no evidence either way and is left out.
   */
  async probe(
    functionId: string,
    path: string,
    count: number,
    deploymentId: string,
  ): Promise<ExecutionInfo[]> {
    const out: ExecutionInfo[] = [];
    await forEachLimited(Array.from({ length: count }), PROBE_CONCURRENCY, async () => {
      const sentAt = this.clock.now();
      try {
        out.push(
          await this.call(() =>
            this.platform.execute(functionId, { method: 'GET', path, headers: PROBE_HEADERS }),
          ),
        );
      } catch (error) {
        if (!hasCode(error, 'TIMEOUT')) return; // not run: no evidence about green either way
        const now = this.clock.now();
        out.push({
          id: `${PROBE_TIMEOUT_PREFIX}${newId()}`,
          functionId,
          deploymentId,
          status: 'failed',
          trigger: 'http',
          requestMethod: 'GET',
          requestPath: path,
          responseStatusCode: 408,
          responseBody: '',
          durationMs: now - sentAt,
          createdAt: now,
          endedAt: now,
        });
      }
    });
    return out;
  }
}

/** Id prefix of the stand-in record of a probe that timed out (never an Appwrite id: ids have no `:`). */
const PROBE_TIMEOUT_PREFIX = 'probe-timeout:';

/** True for the stand-in record {@link RolloutChecks.probe} makes for a probe that timed out. */
export function isProbeTimeout(e: ExecutionInfo): boolean {
  return e.id.startsWith(PROBE_TIMEOUT_PREFIX);
}

/**
 * The watch's evidence: the platform's `records` plus the probe `timeouts` that no record stands for yet. Each
 * timeout is matched with at most one record of the same path that failed and ended within
 * {@link CLOCK_SKEW_MS} of it (Appwrite records the timed-out execution as `failed`/500, at its end), so a
 * timed-out probe counts once: as itself until its record appears, then as the record.
 */
export function mergeProbeTimeouts(
  records: readonly ExecutionInfo[],
  timeouts: readonly ExecutionInfo[],
): ExecutionInfo[] {
  const used = new Set<string>();
  const pending: ExecutionInfo[] = [];
  for (const t of timeouts) {
    const match = records.find(
      (r) =>
        !used.has(r.id) &&
        r.status === 'failed' &&
        r.requestPath === t.requestPath &&
        Math.abs(executionEndOf(r) - executionEndOf(t)) <= CLOCK_SKEW_MS,
    );
    if (match) used.add(match.id);
    else pending.push(t);
  }
  return [...records, ...pending];
}

/**
 * The platform could not be reached or did not answer (after the caller's retries): the check says nothing
 * about green, so it is thrown to the run (which stays resumable) instead of failing the check.
 */
function isTransient(error: unknown): boolean {
  return hasCode(error, 'RETRYABLE', 'OUTCOME_UNKNOWN');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A readable message for any thrown value (moved to error-classification.ts; re-exported under its old home). */
export { messageOf };
