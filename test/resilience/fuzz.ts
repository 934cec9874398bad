/**
 * Fuzz every route of every function (and paths and methods no route has) with hostile and random input:
 * path parameters that are path segments (`.`, `..`, `%2F`), foreign tenants' ids, random strings; queries with
 * forged cursors and out-of-range numbers; bodies that are not JSON, the wrong shape, huge, or carry
 * `__proto__`; callers that are members, other tenants, outsiders, unknown or malformed users, or the key.
 *
 * Required of every request: no 5xx; a 400 carries field issues; a rejected request (4xx) writes nothing — no
 * successful write round trip reaches Appwrite while it runs, and, for a sample of them, the row count of every
 * table is the same before and after.
 */
import fc from 'fast-check';
import type { FakeRequest } from 'resilience-core/testing';
import recognition from '../../functions/create-recognition/src/main.ts';
import orchestrator from '../../functions/deploy-orchestrator/src/main.ts';
import jobWorker from '../../functions/job-worker/src/main.ts';
import quotaReset from '../../functions/quota-reset/src/main.ts';
import { type CallResult, type FunctionName, OUTSIDER, type System, TENANTS } from './system.ts';

/** The route table of each function, from its definition (the kit's `GET /health` added). */
export function routesOf(): { fn: FunctionName; method: string; path: string; body: boolean }[] {
  const defs: Record<FunctionName, { routes?: readonly { method: string; path: string; body?: unknown }[] }> =
    {
      'create-recognition': recognition.definition,
      'deploy-orchestrator': orchestrator.definition,
      'job-worker': jobWorker.definition,
      'quota-reset': quotaReset.definition,
    };
  return Object.entries(defs).flatMap(([fn, def]) => [
    { fn: fn as FunctionName, method: 'GET', path: '/health', body: false },
    ...(def.routes ?? []).map((r) => ({
      fn: fn as FunctionName,
      method: r.method,
      path: r.path,
      body: r.body !== undefined,
    })),
  ]);
}

/** Ids of the other tenant and of nothing, and segments that would address another endpoint. */
const HOSTILE_SEGMENTS = [
  '.',
  '..',
  '%2e%2e',
  '%2E',
  '%2F',
  '..%2F..',
  'a%2Fb',
  '%00',
  '_x',
  '-x',
  'x'.repeat(37),
  '%C3%A9t%C3%A9',
  '__proto__',
  'constructor',
  TENANTS.b.orgId,
  TENANTS.a.orgId,
  'unknown0row',
  "'%20or%20'1'%3D'1",
  '%20',
  'a%3Fb%3Dc',
  'recognitions_per_day',
  'slack',
];

const QUERY_KEYS = [
  'cursor',
  'limit',
  'status',
  'past',
  'orgId',
  'quotaType',
  'receiverId',
  'giverId',
  'scope',
  'x',
];
const QUERY_VALUES = [
  '',
  '-1',
  '0',
  '1',
  '1e9',
  'NaN',
  'abc',
  '..',
  TENANTS.b.orgId,
  'unknown0row',
  'MXxyZWNvZ25pdGlvbnN8Li4',
  'x'.repeat(300),
  '%00',
  'PENDING',
];

const BODIES: unknown[] = [
  '{"not json',
  '',
  'null',
  '[]',
  '"str"',
  '42',
  {},
  { orgId: TENANTS.b.orgId },
  { orgId: '..' },
  { orgId: ['a'] },
  { orgId: TENANTS.a.orgId, orgid: TENANTS.b.orgId },
  JSON.parse('{"__proto__": {"orgId": "tenant-b", "isAdmin": true}, "orgId": "tenant-a"}'),
  { constructor: { prototype: { polluted: true } } },
  { orgId: TENANTS.a.orgId, receiverId: TENANTS.a.member, message: 'x'.repeat(20_000) },
  { orgId: TENANTS.a.orgId, receiverId: '..', message: 'hi' },
  { orgId: TENANTS.a.orgId, receiverId: TENANTS.b.member, message: 'cross-tenant' },
  { functionId: '..', deploymentId: '.', code: 'AAAA' },
  { functionId: 'create-recognition', deploymentId: 'x'.repeat(37) },
  { scope: '..', reason: 'x' },
  { quotaType: 'recognitions_per_day', amount: -1, reason: 'no' },
  { quotaType: 'storage_gb', amount: 1e308, permanent: true, reason: 'big' },
  { limits: { recognitions_per_day: -5 } },
  { name: '..', cron: '* * * * * * *', type: 'send-notification', orgId: TENANTS.b.orgId },
  { daysOld: 0, orgId: TENANTS.a.orgId },
  { since: 'yesterday', orgId: TENANTS.a.orgId },
  JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`),
];

const CALLERS: (string | undefined)[] = [
  undefined,
  TENANTS.a.owner,
  TENANTS.a.member,
  TENANTS.b.owner,
  TENANTS.b.member,
  OUTSIDER,
  'ghost0user',
  '..',
  'x'.repeat(80),
];

/** One fuzzed request for `route`. */
function requestArb(route: { method: string; path: string; body: boolean }): fc.Arbitrary<{
  request: Omit<FakeRequest, 'headers'>;
  caller: string | undefined;
  extraHeaders: Record<string, string>;
}> {
  const params = route.path.split('/').filter((s) => s.startsWith(':'));
  const segment = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s) || 'x') },
  );
  const query = fc.dictionary(
    fc.constantFrom(...QUERY_KEYS),
    fc.oneof(fc.constantFrom(...QUERY_VALUES), fc.string({ maxLength: 30 })),
    { maxKeys: 3 },
  );
  const body = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...BODIES) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  );
  const method = fc.oneof(
    { weight: 6, arbitrary: fc.constant(route.method) },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') },
  );
  const headers = fc.oneof(
    { weight: 4, arbitrary: fc.constant({}) },
    {
      weight: 1,
      arbitrary: fc.record({
        traceparent: fc.constantFrom(
          'garbage',
          '00-00000000000000000000000000000000-0000000000000000-00',
          '',
        ),
      }),
    },
  );
  return fc
    .record({
      segments: fc.array(segment, { minLength: params.length, maxLength: params.length }),
      query,
      body: route.body ? body : fc.constant(undefined),
      method,
      caller: fc.constantFrom(...CALLERS),
      extraHeaders: headers,
    })
    .map(({ segments, query: q, body: b, method: m, caller, extraHeaders }) => {
      let i = 0;
      const p = route.path.replace(/:[^/]+/g, () => segments[i++] ?? 'x');
      const qs = Object.entries(q)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .join('&');
      return {
        request: { method: m, path: qs ? `${p}?${qs}` : p, ...(b !== undefined ? { body: b } : {}) },
        caller,
        extraHeaders,
      };
    });
}

/** The path-segment attacks every parameter of every route gets, deterministically (`full`: all of them). */
const SWEEP_SHORT = ['.', '..', '%2e%2e', '%2F', '_x', 'x'.repeat(37)];

/** Valid-looking stand-ins for the parameters a sweep does not attack. */
const PLAIN: Record<string, string> = {
  orgId: TENANTS.a.orgId,
  quotaType: 'recognitions_per_day',
  name: 'slack',
};

/** Cursors a listing route must refuse with a `cursor` field issue (the other tenant's, unknown, forged). */
const CURSOR_ATTACKS = ['unknown0row', '..', 'MXxyZWNvZ25pdGlvbnN8Li4', 'bm90LWEtY3Vyc29y', '%00'];

/** Deterministic requests: every parameter × every segment attack, every listing route × every cursor attack. */
function sweep(
  routes: ReturnType<typeof routesOf>,
  full: boolean,
): {
  fn: FunctionName;
  method: string;
  path: string;
  body: unknown;
  callers: (string | undefined)[];
  cursor?: boolean;
}[] {
  const attacks = full ? HOSTILE_SEGMENTS : SWEEP_SHORT;
  const out: ReturnType<typeof sweep> = [];
  for (const route of routes) {
    const params = route.path
      .split('/')
      .filter((x) => x.startsWith(':'))
      .map((x) => x.slice(1));
    const body = route.body ? { orgId: TENANTS.a.orgId } : undefined;
    params.forEach((param, at) => {
      for (const attack of attacks) {
        let i = 0;
        const p = route.path.replace(/:[^/]+/g, () =>
          i++ === at ? attack : (PLAIN[params[i - 1]!] ?? 'plain0id'),
        );
        void param;
        out.push({
          fn: route.fn,
          method: route.method,
          path: p,
          body,
          callers: [undefined, TENANTS.a.owner],
        });
      }
    });
    if (route.method === 'GET') {
      const p = route.path.replace(/:([^/]+)/g, (_m, name: string) => PLAIN[name] ?? 'plain0id');
      for (const cursor of CURSOR_ATTACKS) {
        out.push({
          fn: route.fn,
          method: 'GET',
          path: `${p}?cursor=${encodeURIComponent(cursor)}`,
          body: undefined,
          callers: [undefined, TENANTS.a.owner],
          cursor: true,
        });
      }
    }
  }
  return out;
}

/** Requests to paths and methods no route has. */
const STRAY_PATHS = [
  '/',
  '/..',
  '/%2e%2e/health',
  '/health/..',
  '/orgs',
  '/orgs/tenant-a',
  '/rollouts/a/b/c',
  '/x'.repeat(50),
];

/** A 2xx body of a listing route (it has a `nextCursor`). */
function acceptsCursor(r: CallResult): boolean {
  return typeof r.body === 'object' && r.body !== null && 'nextCursor' in r.body;
}

/** What a fuzz run found. */
export interface FuzzFigures {
  routes: number;
  requests: number;
  byStatus: Record<string, number>;
  serverErrors: number;
  rejected: number;
  badRequestsWithoutIssues: number;
  /** Successful write round trips to Appwrite made while a rejected request ran. */
  writesByRejected: number;
  /** Rejected requests whose row counts were compared before and after, and those that differed. */
  rowChecks: number;
  rowsChanged: number;
}

/** Runs `perRoute` fuzzed requests for every route (seeded, so a failure replays). */
export async function runFuzz(
  system: System,
  options: { perRoute: number; seed: number; rowCheckEvery?: number; fullSweep?: boolean },
): Promise<{ figures: FuzzFigures; violations: string[] }> {
  const routes = routesOf();
  const rowCheckEvery = options.rowCheckEvery ?? 10;
  const figures: FuzzFigures = {
    routes: routes.length,
    requests: 0,
    byStatus: {},
    serverErrors: 0,
    rejected: 0,
    badRequestsWithoutIssues: 0,
    writesByRejected: 0,
    rowChecks: 0,
    rowsChanged: 0,
  };
  const violations: string[] = [];
  const describe = (r: CallResult, caller: string | undefined) =>
    `${r.fn} ${r.method} ${r.path} as ${caller ?? 'key'} → ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`;

  const plan: { fn: FunctionName; request: FakeRequest; caller: string | undefined; cursor?: boolean }[] = [];
  for (const s of sweep(routes, options.fullSweep ?? false)) {
    for (const caller of s.callers) {
      plan.push({
        fn: s.fn,
        caller,
        ...(s.cursor ? { cursor: true } : {}),
        request: {
          method: s.method,
          path: s.path,
          ...(s.body !== undefined ? { body: s.body } : {}),
          headers: system.as(caller),
        },
      });
    }
  }
  routes.forEach((route, index) => {
    const samples = fc.sample(requestArb(route), { numRuns: options.perRoute, seed: options.seed + index });
    for (const s of samples) {
      plan.push({
        fn: route.fn,
        caller: s.caller,
        request: { ...s.request, headers: system.as(s.caller, s.extraHeaders) },
      });
    }
  });
  for (const fn of ['create-recognition', 'deploy-orchestrator', 'job-worker', 'quota-reset'] as const) {
    for (const p of STRAY_PATHS) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        plan.push({
          fn,
          caller: TENANTS.a.member,
          request: { method, path: p, headers: system.as(TENANTS.a.member) },
        });
      }
    }
  }

  let rejectedSoFar = 0;
  for (const { fn, request, caller, cursor } of plan) {
    const sampled = (rejectedSoFar + 1) % rowCheckEvery === 0;
    const before = sampled ? await system.rowCounts() : null;
    const r = await system.call(fn, request);
    figures.requests++;
    figures.byStatus[r.status] = (figures.byStatus[r.status] ?? 0) + 1;
    if (r.status >= 500) {
      figures.serverErrors++;
      violations.push(`5xx: ${describe(r, caller)}`);
      continue;
    }
    // A listing route given a forged cursor refuses it (400 naming `cursor`); a route without cursors may ignore it.
    if (cursor && r.status < 400 && acceptsCursor(r)) {
      violations.push(`forged cursor accepted: ${describe(r, caller)}`);
    }
    if (r.status < 400) continue;
    rejectedSoFar++;
    figures.rejected++;
    if (r.status === 400) {
      const issues = (r.body as { error?: { issues?: unknown[] } })?.error?.issues;
      if (!Array.isArray(issues) || issues.length === 0) {
        figures.badRequestsWithoutIssues++;
        violations.push(`400 without field issues: ${describe(r, caller)}`);
      }
    }
    if (r.writes.length > 0) {
      figures.writesByRejected += r.writes.length;
      violations.push(`rejected but wrote ${JSON.stringify(r.writes)}: ${describe(r, caller)}`);
    }
    if (before) {
      figures.rowChecks++;
      const after = await system.rowCounts();
      const changed = Object.keys(after).filter((t) => after[t] !== before[t]);
      if (changed.length > 0) {
        figures.rowsChanged++;
        violations.push(`rejected but rows changed in ${changed.join(', ')}: ${describe(r, caller)}`);
      }
    }
  }
  return { figures, violations };
}
