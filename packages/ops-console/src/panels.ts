import { Query } from 'node-appwrite';
import { errorText } from 'resilience-core';
import {
  aggregateBuckets,
  CIRCUIT_BREAKER_BUCKETS_TABLE,
  circuitBreakerPresets,
  isPresetName,
  readStoredBreakers,
  resolveCircuitBreakerOptions,
  type StoredBreakers,
} from 'resilience-core/circuit-breaker';
import type { RolloutEvent, RolloutView } from 'resilience-core/deployment';
import {
  collectJobMetrics,
  JOB_TABLES,
  type JobMetrics,
  parseJobRow,
  readHistory,
  type StoredJob,
} from 'resilience-core/jobs';
import { QUOTA_TABLES, type QuotaTypeReport, usageReport } from 'resilience-core/quota';
import { evaluateSlos, type SloEvaluation } from 'resilience-core/slo';
import type { LiveSystem } from './live-system.ts';

/** One breaker row of the panel. */
export interface BreakerView {
  key: string;
  name: string;
  scope: string | null;
  state: string;
  isolated: boolean;
  since: string;
  openUntil: string | null;
  reason: string | null;
  /** Written transitions so far, fleet-wide (the shared state version). */
  transitions: number;
  reopenCount: number;
  /** Over the breaker's window, fleet-wide (from the shared buckets); null with no calls. */
  calls: number;
  failureRate: number | null;
  slowRate: number | null;
}

/** One job row of the panel. */
export interface JobView {
  id: string;
  type: string;
  orgId: string;
  status: string;
  attempts: number;
  maxRetries: number;
  runAt: string;
  lastError: string | null;
  traceId: string | null;
  history: { attempt: number; outcome: string; endedAt: string; error: string | null }[];
}

/** One quota row of the panel. */
export interface QuotaView {
  orgId: string;
  plan: string;
  quotaType: string;
  window: string;
  used: number;
  limit: number;
  percent: number;
  resetsAt: string | null;
  increase: number;
  shadow: boolean;
}

/** One pending increase request. */
export interface IncreaseView {
  id: string;
  orgId: string;
  quotaType: string;
  amount: number;
  durationDays: number | null;
  reason: string;
  requestedBy: string | null;
  createdAt: string;
}

/** One function of the rollouts panel. */
export interface RolloutFunctionView {
  functionId: string;
  liveDeploymentId: string | null;
  standbyFunctionId: string;
  standbyDeploymentId: string | null;
  /** Ready deployments that are not live (what "start" can roll out), newest first. */
  candidates: { id: string; createdAt: string }[];
  latest: RolloutView | null;
  events: Pick<RolloutEvent, 'at' | 'level' | 'status' | 'message'>[];
  history: RolloutView[];
}

/** Everything the console shows, from one refresh. */
export interface ConsoleState {
  at: string;
  breakers: { rows: BreakerView[]; truncated: boolean } | { error: string };
  jobs: { metrics: JobMetrics; deadLetters: JobView[]; waiting: JobView[] } | { error: string };
  quotas: { rows: QuotaView[]; pending: IncreaseView[] } | { error: string };
  rollouts: { functions: RolloutFunctionView[] } | { error: string };
  slos: SloEvaluation | { error: string };
  /** API calls this refresh made, total and per area. */
  roundTrips: { total: number; byArea: Record<string, number> };
}

const iso = (ms: number) => new Date(ms).toISOString();
/** The shared bucket outcome kinds, in the order aggregateBuckets counts them. */
const OUTCOME_KINDS = ['ok', 'fail', 'slowOk', 'slowFail'] as const;

async function guard<T>(load: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await load();
  } catch (error) {
    return { error: errorText(error) };
  }
}

/** Breakers: the state table (1 list per 1,000) and the recent shared buckets (1 list). */
export async function loadBreakers(sys: LiveSystem): Promise<{ rows: BreakerView[]; truncated: boolean }> {
  const now = sys.clock.now();
  const [stored, buckets]: [StoredBreakers, Awaited<ReturnType<LiveSystem['store']['list']>>] =
    await Promise.all([
      readStoredBreakers(sys.store, sys.clock),
      sys.store.list(CIRCUIT_BREAKER_BUCKETS_TABLE, {
        where: [{ field: 'bucketStart', op: 'gte', value: now - 15 * 60_000 }],
        limit: 1000,
      }),
    ]);
  const rows = stored.breakers.map((b): BreakerView => {
    const options = resolveCircuitBreakerOptions(isPresetName(b.name) ? circuitBreakerPresets[b.name] : {});
    const map = new Map<number, [number, number, number, number]>();
    for (const r of buckets.rows) {
      if (r.breakerKey !== b.key || r.version !== b.version) continue;
      const start = Number(r.bucketStart);
      const counts = map.get(start) ?? [0, 0, 0, 0];
      const k = OUTCOME_KINDS.indexOf(r.kind as (typeof OUTCOME_KINDS)[number]);
      if (k >= 0) counts[k] = (counts[k] ?? 0) + Number(r.count ?? 0);
      map.set(start, counts);
    }
    const w = aggregateBuckets(map, options.window, now);
    return {
      key: b.key,
      name: b.name,
      scope: b.scope,
      state: b.isolated ? 'ISOLATED' : b.state,
      isolated: b.isolated,
      since: iso(b.changedAt),
      openUntil: b.openUntil === null ? null : iso(b.openUntil),
      reason: b.reason,
      transitions: b.version,
      reopenCount: b.reopenCount,
      calls: Math.round(w.calls),
      failureRate: w.calls > 0 ? w.failures / w.calls : null,
      slowRate: w.calls > 0 ? w.slow / w.calls : null,
    };
  });
  return { rows, truncated: stored.truncated };
}

function jobView(job: StoredJob): JobView {
  const raw = job as unknown as Record<string, unknown>;
  const trace = typeof raw.traceparent === 'string' ? raw.traceparent.split('-')[1] : raw.traceId;
  return {
    id: job.$id,
    type: job.type,
    orgId: job.orgId,
    status: job.status,
    attempts: job.attempts,
    maxRetries: job.maxRetries,
    runAt: iso(job.runAt),
    lastError: job.lastError,
    traceId: typeof trace === 'string' ? trace : null,
    history: readHistory(job).map((h) => ({
      attempt: h.attempt,
      outcome: h.outcome,
      endedAt: iso(h.endedAt),
      error: h.error,
    })),
  };
}

/** Jobs: the queue metrics (2 scans), dead letters (1 list) and the oldest waiting jobs (1 list). */
export async function loadJobs(sys: LiveSystem) {
  const [metrics, dead, waiting] = await Promise.all([
    collectJobMetrics({ store: sys.store, clock: sys.clock, windowMs: 3_600_000 }),
    sys.queue.listDeadLetters({ limit: 50 }),
    sys.store.list(JOB_TABLES.queue, {
      where: [{ field: 'status', op: 'eq', value: ['PENDING', 'RETRYING', 'PROCESSING'] }],
      orderBy: [{ field: 'runAt', direction: 'asc' }],
      limit: 25,
    }),
  ]);
  return {
    metrics,
    deadLetters: dead.jobs.map(jobView),
    waiting: waiting.rows.map((r) => jobView(parseJobRow(r))),
  };
}

/** Quotas: usage rows (1 list), pending requests (1 list), and one usage report per organization. */
export async function loadQuotas(sys: LiveSystem, maxOrgs = 20) {
  const [usage, pending] = await Promise.all([
    sys.store.list(QUOTA_TABLES.usage, { limit: 1000 }),
    sys.store.list(QUOTA_TABLES.increaseRequests, {
      where: [{ field: 'status', op: 'eq', value: 'pending' }],
      orderBy: [{ field: '$createdAt', direction: 'desc' }],
      limit: 100,
    }),
  ]);
  const orgs = [
    ...new Set([...usage.rows.map((r) => String(r.orgId)), ...pending.rows.map((r) => String(r.orgId))]),
  ]
    .sort()
    .slice(0, maxOrgs);
  const quotas = sys.quotaService();
  const reports = await Promise.all(orgs.map((orgId) => usageReport(quotas, orgId, { past: 0 })));
  const rows: QuotaView[] = reports.flatMap((report) =>
    report.quotas
      .filter((q: QuotaTypeReport) => q.current.used > 0 || q.increase > 0)
      .map((q) => ({
        orgId: report.orgId,
        plan: report.plan,
        quotaType: q.quotaType,
        window: q.window,
        used: q.current.used,
        limit: q.limit,
        percent: q.current.percent,
        resetsAt: q.current.end,
        increase: q.increase,
        shadow: q.shadow,
      })),
  );
  return {
    rows,
    pending: pending.rows.map(
      (r): IncreaseView => ({
        id: r.$id,
        orgId: String(r.orgId),
        quotaType: String(r.quotaType),
        amount: Number(r.amount),
        durationDays: r.durationDays === null || r.durationDays === undefined ? null : Number(r.durationDays),
        reason: String(r.reason ?? ''),
        requestedBy: r.requestedBy ? String(r.requestedBy) : null,
        createdAt: String(r.$createdAt),
      }),
    ),
  };
}

/**
 * Rollouts: every function (1 list), and per function with a standby twin its rollout history (1 list), the
 * latest rollout's events (1 list) and its ready deployments (1 list).
 */
export async function loadRollouts(sys: LiveSystem) {
  const list = await sys.functions.list({ queries: [Query.limit(100)] });
  const byId = new Map(list.functions.map((f) => [f.$id, f]));
  const live = list.functions
    .filter((f) => byId.has(`${f.$id}-standby`))
    .sort((a, b) => a.$id.localeCompare(b.$id));
  const functions = await Promise.all(
    live.map(async (f): Promise<RolloutFunctionView> => {
      const twin = byId.get(`${f.$id}-standby`)!;
      const [history, deployments] = await Promise.all([
        sys.orchestrator.history(f.$id, { limit: 8 }),
        sys.functions.listDeployments({
          functionId: f.$id,
          queries: [Query.equal('status', ['ready']), Query.orderDesc('$createdAt'), Query.limit(6)],
        }),
      ]);
      const latest = history.rollouts[0] ?? null;
      const events = latest ? await sys.orchestrator.events(latest.rolloutId) : [];
      return {
        functionId: f.$id,
        liveDeploymentId: f.deploymentId || null,
        standbyFunctionId: twin.$id,
        standbyDeploymentId: twin.deploymentId || null,
        candidates: deployments.deployments
          .filter((d) => d.$id !== f.deploymentId)
          .map((d) => ({ id: d.$id, createdAt: d.$createdAt })),
        latest,
        events: events
          .slice(-30)
          .map((e) => ({ at: e.at, level: e.level, status: e.status, message: e.message })),
        history: history.rollouts,
      };
    }),
  );
  return { functions };
}

/** Loads every panel at once; a panel that fails shows its error, the others still render. */
export async function loadState(sys: LiveSystem): Promise<ConsoleState> {
  const before = { total: sys.calls.total, byArea: { ...sys.calls.byArea } };
  const [breakers, jobs, quotas, rollouts, slos] = await Promise.all([
    guard(() => loadBreakers(sys)),
    guard(() => loadJobs(sys)),
    guard(() => loadQuotas(sys)),
    guard(() => loadRollouts(sys)),
    guard(() => evaluateSlos(sys.slos, { counter: sys.counter, clock: sys.clock })),
  ]);
  const byArea: Record<string, number> = {};
  for (const [area, n] of Object.entries(sys.calls.byArea)) {
    const d = n - (before.byArea[area] ?? 0);
    if (d) byArea[area] = d;
  }
  return {
    at: iso(sys.clock.now()),
    breakers,
    jobs,
    quotas,
    rollouts,
    slos,
    roundTrips: { total: sys.calls.total - before.total, byArea },
  };
}
