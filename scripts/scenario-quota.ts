/**
 * Scenario steps of the quotas (issue 5), on the deployed create-recognition function:
 *
 * 1. An operator caps the demo org's `recognitions_per_day` a few units above what it used today (the key-only
 *    `PUT /orgs/:orgId/quota-settings`); a burst of concurrent recognitions then gets exactly that many 201s and
 *    429 QUOTA_EXCEEDED for the rest. Appwrite's execution record keeps only `content-type`/`content-length`
 *    of a function's response headers (appwrite-local does the same), so the `Retry-After` / `RateLimit-*`
 *    headers a browser or a function domain would see are read by running one more refused request through
 *    the same built bundle in this process, against the same server.
 * 2. The usage report; a member asks for more, an admin approves, and the next recognition fits again.
 *
 * Callers: members and admins call as themselves (user JWTs, `ctx.executeAsUser`); the operator's settings
 * change uses the API key (a key-only route).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FunctionHandler } from 'resilience-core/runtime';
import { invoke } from 'resilience-core/testing';
import { check, type ExecuteResult, type ScenarioContext, type ScenarioStep } from './scenario-context.ts';
import { expectStatus, truncate } from './scenario-support.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Recognitions the demo org may still create today once the operator has capped it. */
const HEADROOM = 5;
/** Concurrent recognitions fired at that cap. */
const BURST = 12;
/** Units the member asks for (and the admin grants, for one day). */
const INCREASE = 10;

interface QuotaTypeView {
  quotaType: string;
  limit: number;
  baseLimit: number;
  limitSource: string;
  increase: number;
  current: { used: number; remaining: number; percent: number; end: string | null };
}

interface RefusalView {
  ok: false;
  error: {
    code: string;
    message: string;
    details?: { quotaType?: string; limit?: number; used?: number; remaining?: number; resetsAt?: string };
  };
}

async function quotaOf(ctx: ScenarioContext, orgId: string, type: string): Promise<QuotaTypeView> {
  const r = await ctx.execute('create-recognition', { path: `/orgs/${orgId}/quotas/${type}` });
  expectStatus(r, 200, `GET /orgs/${orgId}/quotas/${type}`);
  return r.body as QuotaTypeView;
}

/** A recognition from Bob to Alice (Bob is the signed-in caller; server calls add `giverId`). */
function recognition(ctx: ScenarioContext, tag: string) {
  const { orgId, aliceId } = ctx.state;
  return {
    orgId,
    receiverId: aliceId,
    message: `Quota demo ${tag}`,
    points: 1,
    requestId: `scenario-quota-${ctx.runId}-${tag}`,
  };
}

let bundle: FunctionHandler | undefined;

/** create-recognition's built bundle (functions/create-recognition/dist/main.js), loaded once. */
function createRecognitionBundle(): FunctionHandler {
  if (bundle) return bundle;
  const file = join(root, 'functions', 'create-recognition', 'dist', 'main.js');
  check(existsSync(file), `${file} is missing: build the functions first`);
  bundle = createRequire(import.meta.url)(file) as FunctionHandler;
  return bundle;
}

/** One refused request through the bundle in this process, to read the response headers. */
async function refusalHeaders(ctx: ScenarioContext): Promise<Record<string, string>> {
  const handler = createRecognitionBundle().with({
    env: {
      APPWRITE_FUNCTION_API_ENDPOINT: ctx.endpoint,
      APPWRITE_FUNCTION_PROJECT_ID: ctx.projectId,
      APPWRITE_FUNCTION_ID: 'create-recognition',
      APPWRITE_FUNCTION_DEPLOYMENT: 'scenario-in-process',
    },
  });
  const out = await invoke(handler, {
    method: 'POST',
    path: '/recognitions',
    body: { ...recognition(ctx, 'headers'), giverId: ctx.state.bobId },
    headers: { 'x-appwrite-key': ctx.apiKey, 'x-appwrite-trigger': 'http' },
  });
  check(out.status === 429, `the in-process request answered ${out.status}, expected 429`);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers)) headers[k.toLowerCase()] = v;
  return headers;
}

const admissionStep: ScenarioStep = {
  name: `quotas: ${BURST} concurrent recognitions against ${HEADROOM} left → exactly ${HEADROOM} admitted, the rest 429`,
  async run(ctx) {
    const { orgId, aliceId, bobId } = ctx.state;
    check(orgId && aliceId && bobId, 'needs the organization step');
    const before = await quotaOf(ctx, orgId, 'recognitions_per_day');
    const cap = before.current.used + HEADROOM;
    const put = await ctx.execute('create-recognition', {
      path: `/orgs/${orgId}/quota-settings`,
      method: 'PUT',
      body: { overrides: { recognitions_per_day: cap } },
    });
    expectStatus(put, 200, `PUT /orgs/${orgId}/quota-settings`);

    const results: ExecuteResult[] = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        ctx.executeAsUser(bobId, 'create-recognition', {
          path: '/recognitions',
          method: 'POST',
          body: recognition(ctx, `burst-${i}`),
        }),
      ),
    );
    const admitted = results.filter((r) => r.statusCode === 201).length;
    const refused = results.filter((r) => r.statusCode === 429);
    const other = results.filter((r) => r.statusCode !== 201 && r.statusCode !== 429);
    check(
      other.length === 0,
      `unexpected answers: ${other.map((r) => `${r.statusCode} ${truncate(JSON.stringify(r.body), 150)}`).join('; ')}`,
    );
    check(
      admitted === HEADROOM,
      `${admitted} of ${BURST} admitted with ${HEADROOM} left, expected exactly ${HEADROOM}`,
    );
    for (const r of refused) {
      const body = r.body as RefusalView;
      check(
        body.error?.code === 'QUOTA_EXCEEDED' &&
          body.error.details?.quotaType === 'recognitions_per_day' &&
          body.error.details.remaining === 0 &&
          body.error.details.limit === cap,
        `a 429 does not name the spent quota: ${truncate(JSON.stringify(body), 300)}`,
      );
    }
    const after = await quotaOf(ctx, orgId, 'recognitions_per_day');
    check(
      after.current.used === cap && after.current.remaining === 0,
      `usage after the burst is ${after.current.used}/${after.limit}, expected ${cap}/${cap}`,
    );

    const headers = await refusalHeaders(ctx);
    const retryAfter = Number(headers['retry-after']);
    check(Number.isInteger(retryAfter) && retryAfter > 0, `Retry-After is "${headers['retry-after']}"`);
    check(
      headers['ratelimit-limit'] === String(cap) && headers['ratelimit-remaining'] === '0',
      `RateLimit headers are ${JSON.stringify(headers)}, expected limit ${cap} and remaining 0`,
    );
    const sample = (refused[0]?.body as RefusalView | undefined)?.error.message ?? '';
    ctx.state.quotaCap = String(cap);
    return [
      `operator cap recognitions_per_day = ${cap} (used ${before.current.used}); burst of ${BURST}: ${admitted}×201, ${refused.length}×429 QUOTA_EXCEEDED;`,
      `"${truncate(sample, 140)}";`,
      `headers (same bundle, in process): Retry-After: ${retryAfter}, RateLimit-Limit: ${headers['ratelimit-limit']}, RateLimit-Remaining: ${headers['ratelimit-remaining']}, RateLimit-Reset: ${headers['ratelimit-reset'] ?? '—'}`,
    ].join('\n      ');
  },
};

const increaseStep: ScenarioStep = {
  name: 'quotas: usage report, a member asks for more, an admin approves, recognitions fit again',
  async run(ctx) {
    const { orgId, quotaCap, aliceId, bobId } = ctx.state;
    check(orgId && quotaCap && aliceId && bobId, 'needs the quota admission step');
    const report = await ctx.executeAsUser(bobId, 'create-recognition', {
      path: `/orgs/${orgId}/quotas?past=0`,
    });
    expectStatus(report, 200, `GET /orgs/${orgId}/quotas`);
    const quotas = (report.body as { plan: string; quotas: QuotaTypeView[] }).quotas;
    const byType = new Map(quotas.map((q) => [q.quotaType, q]));
    const usage = [
      'recognitions_per_day',
      'api_calls_per_hour',
      'reward_points_per_month',
      'notifications_per_hour',
    ]
      .map((t) => byType.get(t))
      .filter((q): q is QuotaTypeView => q !== undefined)
      .map((q) => `${q.quotaType} ${q.current.used}/${q.limit} (${q.current.percent}%)`);
    check(
      byType.get('recognitions_per_day')?.current.remaining === 0,
      'the report does not show the cap as spent',
    );

    const submitted = await ctx.executeAsUser(bobId, 'create-recognition', {
      path: `/orgs/${orgId}/quota-requests`,
      method: 'POST',
      body: {
        quotaType: 'recognitions_per_day',
        amount: INCREASE,
        durationDays: 1,
        reason: 'All-hands kudos day',
      },
    });
    expectStatus(submitted, 201, `POST /orgs/${orgId}/quota-requests`);
    const request = submitted.body as { id: string; status: string; requestedBy: string };
    check(request.status === 'pending', `a new request is ${request.status}, expected pending`);

    // Bob is a member, not an admin: he cannot approve his own request.
    const byMember = await ctx.executeAsUser(bobId, 'create-recognition', {
      path: `/orgs/${orgId}/quota-requests/${request.id}/approve`,
      method: 'POST',
      body: {},
    });
    expectStatus(byMember, 403, 'a member approving');
    const approved = await ctx.executeAsUser(aliceId, 'create-recognition', {
      path: `/orgs/${orgId}/quota-requests/${request.id}/approve`,
      method: 'POST',
      body: { note: 'Approved for the all-hands' },
    });
    expectStatus(approved, 200, `POST …/quota-requests/${request.id}/approve`);
    check(
      (approved.body as { status: string }).status === 'approved',
      `the request is ${(approved.body as { status: string }).status} after approval`,
    );
    const again = await ctx.executeAsUser(aliceId, 'create-recognition', {
      path: `/orgs/${orgId}/quota-requests/${request.id}/approve`,
      method: 'POST',
      body: {},
    });
    check(again.statusCode === 409, `approving twice answered ${again.statusCode}, expected 409`);

    const raised = await quotaOf(ctx, orgId, 'recognitions_per_day');
    const cap = Number(quotaCap);
    check(
      raised.limit === cap + INCREASE && raised.increase === INCREASE,
      `the limit is ${raised.limit} (increase ${raised.increase}), expected ${cap + INCREASE}`,
    );
    const next = await ctx.executeAsUser(bobId, 'create-recognition', {
      path: '/recognitions',
      method: 'POST',
      body: recognition(ctx, 'after-increase'),
    });
    expectStatus(next, 201, 'a recognition after the increase');

    const audit = await ctx.executeAsUser(aliceId, 'create-recognition', {
      path: `/orgs/${orgId}/quota-audit?limit=10`,
    });
    expectStatus(audit, 200, `GET /orgs/${orgId}/quota-audit`);
    const actions = (audit.body as { entries: { action: string }[] }).entries;
    check(
      Array.isArray(actions) && actions.length >= 2,
      `the audit trail is ${truncate(JSON.stringify(audit.body))}`,
    );
    return [
      `report: ${usage.join(', ')};`,
      `${bobId} (member) asks +${INCREASE} for 1 day: ${request.id} pending; his own approval 403; ${aliceId} (owner) approves (again: 409);`,
      `limit ${cap} → ${raised.limit} (requested by ${request.requestedBy}), next recognition 201;`,
      `audit trail (newest first): ${actions.map((a) => a.action).join(', ')}`,
    ].join('\n      ');
  },
};

/** The quota steps `npm start` runs (spread into scripts/scenario.ts). */
export const quotaSteps: ScenarioStep[] = [admissionStep, increaseStep];
