import { errors, lazySchema, ORG_ADMIN_ROLES } from 'resilience-core';
import type { RecognitionHooks } from 'resilience-core/app';
import { notificationsFor } from 'resilience-core/notify';
import {
  decideIncreaseRequest,
  getIncreaseRequest,
  INCREASE_STATUSES,
  increaseDecisionInputSchema,
  increaseRequestInputSchema,
  listIncreaseRequests,
  listQuotaAudit,
  QUOTA_TABLES,
  type QuotaActor,
  type QuotaLogger,
  type QuotaNotifier,
  QuotaService,
  quotaRecognitionHooks,
  quotaSettingsInputSchema,
  quotaTypeSchema,
  REPORT_PAST_MAX,
  submitIncreaseRequest,
  updateQuotaSettings,
  usageReport,
} from 'resilience-core/quota';
import { type Caller, cursorSchema, type SetupContext, sealedPage } from 'resilience-core/runtime';
import { z } from 'zod';
import { type AppDeps, route } from '../deps.ts';

/**
 * Quota routes of the app API, and the recognition quota hook.
 *
 * | route | who | what |
 * |---|---|---|
 * | `GET /orgs/:orgId/quotas[?quotaType=&past=]` | member | usage report: every quota's limit, current window and past windows |
 * | `GET /orgs/:orgId/quotas/:quotaType[?past=]` | member | the same for one quota |
 * | `GET /orgs/:orgId/quota-requests[?status=&limit=&cursor=]` | member | increase requests, newest first |
 * | `POST /orgs/:orgId/quota-requests` | member | submit `{ quotaType, amount, durationDays \| permanent: true, reason }` → 201 |
 * | `GET /orgs/:orgId/quota-requests/:requestId` | member | one request |
 * | `POST /orgs/:orgId/quota-requests/:requestId/approve` | admin | approve (body `{}` or `{ note }`) |
 * | `POST /orgs/:orgId/quota-requests/:requestId/reject` | admin | reject (body `{}` or `{ note }`) |
 * | `GET /orgs/:orgId/quota-audit[?limit=&cursor=]` | admin | the audit trail of limit changes, newest first |
 * | `PUT /orgs/:orgId/quota-settings` | key | operators: `{ plan?, timeZone?, overrides?, shadow? }` |
 *
 * Membership and admin role are checked by the kit (403); a request id of another org is 403 too.
 */

/**
 * A quota service for reading (usage reports): limits cached for its lifetime, no notifier. Consume through
 * {@link executionQuotaService} instead, whose threshold alerts are delivered.
 */
export function quotaServiceFor(deps: Pick<AppDeps, 'store' | 'clock'>, log: QuotaLogger): QuotaService {
  return new QuotaService({ store: deps.store, clock: deps.clock, log });
}

/**
 * Where quota alerts go: the Slack/Teams webhooks of `NOTIFY_SLACK_WEBHOOK_URL` / `NOTIFY_TEAMS_WEBHOOK_URL`
 * through resilience-core's `notificationsFor` (each channel behind the process's breaker, deferred to the
 * `send-notification` queue when it cannot go now); silent when no webhook is set. Wired on the first alert.
 */
export function quotaNotifierFor(ctx: SetupContext): QuotaNotifier {
  return { notify: (n) => notificationsFor(ctx).quotaNotifier.notify(n) };
}

const executionQuotas = new WeakMap<SetupContext, QuotaService>();

/**
 * The quota service of one execution's hooks (recognition admission and the notification quota), shared so the
 * org's limits are read once; threshold alerts go through {@link quotaNotifierFor} (never charged themselves).
 */
export function executionQuotaService(ctx: SetupContext): QuotaService {
  let service = executionQuotas.get(ctx);
  if (!service) {
    service = new QuotaService({
      store: ctx.store(),
      clock: ctx.clock,
      log: ctx.log,
      notifier: quotaNotifierFor(ctx),
    });
    executionQuotas.set(ctx, service);
  }
  return service;
}

/** The hook factory for `hooks.ts`: recognitions consume their quotas atomically before the write. */
export function quotaHooks(ctx: SetupContext): RecognitionHooks {
  return quotaRecognitionHooks(executionQuotaService(ctx));
}

function actorOf(caller: Caller): QuotaActor {
  return {
    userId: caller.userId,
    orgId: caller.orgId!,
    isAdmin: caller.kind === 'server' || caller.roles.some((r) => ORG_ADMIN_ROLES.includes(r)),
  };
}

const pastSchema = lazySchema(() => z.coerce.number().int().min(0).max(REPORT_PAST_MAX).optional());
const reportQuery = lazySchema(() => z.object({ quotaType: quotaTypeSchema.optional(), past: pastSchema }));
const typeReportQuery = lazySchema(() => z.object({ past: pastSchema }));
const listQuery = lazySchema(() =>
  z.object({
    status: z.enum(INCREASE_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(100).optional(),
    /** Opaque and bound to the org's list (resilience-core ports/cursor.ts). */
    cursor: cursorSchema.optional(),
  }),
);

/** The quota routes (spread into create-recognition's `routes`). */
export const quotaRoutes = [
  route({
    method: 'GET',
    path: '/orgs/:orgId/quotas',
    auth: 'member',
    summary: "The org's usage report: limits, current and past windows per quota",
    query: reportQuery,
    handler: async ({ params, query, deps, log }) => ({
      body: await usageReport(quotaServiceFor(deps, log), params.orgId, {
        ...(query.quotaType ? { quotaType: query.quotaType } : {}),
        ...(query.past === undefined ? {} : { past: query.past }),
      }),
    }),
  }),
  route({
    method: 'GET',
    path: '/orgs/:orgId/quotas/:quotaType',
    auth: 'member',
    summary: 'The usage report of one quota',
    query: typeReportQuery,
    handler: async ({ params, query, deps, log }) => {
      const quotaType = quotaTypeSchema.safeParse(params.quotaType);
      if (!quotaType.success) {
        throw errors.invalidInput(`Unknown quota type "${params.quotaType}"`, [
          { path: 'quotaType', message: quotaType.error.issues[0]?.message ?? 'unknown' },
        ]);
      }
      const report = await usageReport(quotaServiceFor(deps, log), params.orgId, {
        quotaType: quotaType.data,
        ...(query.past === undefined ? {} : { past: query.past }),
      });
      return {
        body: { ...report.quotas[0], orgId: report.orgId, timeZone: report.timeZone, plan: report.plan },
      };
    },
  }),
  route({
    method: 'GET',
    path: '/orgs/:orgId/quota-requests',
    auth: 'member',
    summary: "The org's increase requests, newest first",
    query: listQuery,
    handler: async ({ query, caller, deps }) => ({
      body: await sealedPage(
        deps.store,
        query.cursor,
        { table: QUOTA_TABLES.increaseRequests, match: { orgId: caller.orgId!, status: query.status } },
        (cursor) =>
          listIncreaseRequests(deps.store, actorOf(caller), {
            ...(query.status ? { status: query.status } : {}),
            ...(query.limit ? { limit: query.limit } : {}),
            ...(cursor ? { cursor } : {}),
          }),
      ),
    }),
  }),
  route({
    method: 'POST',
    path: '/orgs/:orgId/quota-requests',
    auth: 'member',
    summary: 'A member asks for a higher limit',
    body: increaseRequestInputSchema,
    handler: async ({ body, caller, deps, clock }) => ({
      status: 201,
      body: await submitIncreaseRequest(deps.store, actorOf(caller), body, clock.now()),
    }),
  }),
  route({
    method: 'GET',
    path: '/orgs/:orgId/quota-requests/:requestId',
    auth: 'member',
    summary: 'One increase request',
    handler: async ({ params, caller, deps }) => ({
      body: await getIncreaseRequest(deps.store, actorOf(caller), params.requestId),
    }),
  }),
  route({
    method: 'POST',
    path: '/orgs/:orgId/quota-requests/:requestId/approve',
    auth: 'admin',
    summary: 'An org admin approves a pending request: the effective limit rises',
    body: increaseDecisionInputSchema,
    handler: async ({ params, body, caller, deps, clock }) => ({
      body: await decideIncreaseRequest(
        deps.store,
        actorOf(caller),
        params.requestId,
        'approved',
        body.note,
        clock.now(),
      ),
    }),
  }),
  route({
    method: 'POST',
    path: '/orgs/:orgId/quota-requests/:requestId/reject',
    auth: 'admin',
    summary: 'An org admin rejects a pending request',
    body: increaseDecisionInputSchema,
    handler: async ({ params, body, caller, deps, clock }) => ({
      body: await decideIncreaseRequest(
        deps.store,
        actorOf(caller),
        params.requestId,
        'rejected',
        body.note,
        clock.now(),
      ),
    }),
  }),
  route({
    method: 'GET',
    path: '/orgs/:orgId/quota-audit',
    auth: 'admin',
    summary: 'The audit trail of quota limit changes, newest first',
    query: lazySchema(() => listQuery.omit({ status: true })),
    handler: async ({ query, caller, deps }) => ({
      body: await sealedPage(
        deps.store,
        query.cursor,
        { table: QUOTA_TABLES.audit, match: { orgId: caller.orgId! } },
        (cursor) =>
          listQuotaAudit(deps.store, actorOf(caller), {
            ...(query.limit ? { limit: query.limit } : {}),
            ...(cursor ? { cursor } : {}),
          }),
      ),
    }),
  }),
  route({
    method: 'PUT',
    path: '/orgs/:orgId/quota-settings',
    auth: 'key',
    summary: "Operators set an org's plan, time zone, limit overrides and shadow quotas",
    body: quotaSettingsInputSchema,
    handler: async ({ params, body, caller, deps, clock }) => ({
      body: await updateQuotaSettings(
        deps.store,
        { userId: caller.userId, orgId: params.orgId, isAdmin: true },
        body,
        clock.now(),
      ),
    }),
  }),
];
