/**
 * The quota-increase workflow and operator settings, every change audited in the same transaction as the change.
 *
 * - A member of an org submits a request (quota type, amount, duration in days or permanent, reason): `pending`.
 * - An admin (owner/admin role) of THAT org — or a server call — approves or rejects it, exactly once: the
 *   decision is a compare-and-set on the request's `version` (increment bounded at version + 1) in one
 *   transaction with the status update and the audit row, so two concurrent decisions cannot both land.
 * - An approved request adds `amount` to the effective limit until `expiresAt` (never, when permanent);
 *   quota-reset marks it `expired` afterwards (also audited).
 * - Callers acting for another org get FORBIDDEN (403); non-admins deciding get FORBIDDEN.
 *
 * Plan, time zone, overrides and shadow mode are operator settings (server calls only), also audited.
 */
import { z } from 'zod';
import { errors, hasCode } from '../errors.ts';
import { ID_PATTERN, newId } from '../ids.ts';
import { versionedUpdate } from '../ports/compare-and-set.ts';
import type { Row, TableStore, WriteOp } from '../ports/table-store.ts';
import { lazySchema } from '../schema/lazy-schema.ts';
import { commitWithReceipt, receiptOf } from './commit.ts';
import { type LimitOverrides, limitOverridesSchema, settingsOf } from './limits.ts';
import { assertQuotaOrgId } from './quota-service.ts';
import { QUOTA_TYPE_NAMES, type QuotaType, quotaAmountSchema, quotaTypeSchema } from './quota-types.ts';
import {
  INCREASE_STATUSES,
  type IncreaseStatus,
  PLAN_TIERS,
  QUOTA_TABLES,
  type QuotaAuditRow,
  type QuotaIncreaseRequestRow,
  type QuotaSettingsRow,
  quotaAuditRowSchema,
  quotaIncreaseRequestRowSchema,
  settingsRowId,
} from './rows.ts';
import { isoTime } from './time.ts';
import { isValidTimeZone } from './windows.ts';

/** Who is acting: a user of an org (with whether they hold owner/admin there), or a server call (`userId` null). */
export interface QuotaActor {
  userId: string | null;
  /** The org the caller was authorized for. */
  orgId: string;
  /** True for owner/admin members and for server calls. */
  isAdmin: boolean;
}

/** Longest temporary increase, in days. */
export const MAX_INCREASE_DAYS = 366;

/** Most pending requests an org may have at once (a soft cap against request spam; 409 beyond it). */
export const MAX_PENDING_REQUESTS = 20;

/** Body of a submit: `durationDays` or `permanent: true`, not both. */
export const increaseRequestInputSchema = lazySchema(() =>
  z
    .object({
      quotaType: quotaTypeSchema,
      amount: quotaAmountSchema,
      durationDays: z.number().int().min(1).max(MAX_INCREASE_DAYS).optional(),
      permanent: z.boolean().optional(),
      reason: z.string().trim().min(3).max(1000),
    })
    .strict()
    .refine((v) => (v.permanent === true) !== (v.durationDays !== undefined), {
      message: 'give either durationDays or permanent: true',
      path: ['durationDays'],
    }),
);
/** A validated submit body. */
export type IncreaseRequestInput = z.infer<typeof increaseRequestInputSchema>;

/** Body of an approve or reject. */
export const increaseDecisionInputSchema = lazySchema(() =>
  z.object({ note: z.string().trim().max(1000).optional() }).strict(),
);

/** Body of an operator settings change (every field optional; at least one). */
export const quotaSettingsInputSchema = lazySchema(() =>
  z
    .object({
      plan: z.enum(PLAN_TIERS).optional(),
      timeZone: z
        .string()
        .refine(isValidTimeZone, { message: 'must be an IANA time zone name such as Europe/Berlin' })
        .optional(),
      overrides: limitOverridesSchema.optional(),
      shadow: z.array(z.enum(QUOTA_TYPE_NAMES)).max(QUOTA_TYPE_NAMES.length).optional(),
    })
    .strict()
    .refine((v) => Object.keys(v).length > 0, { message: 'nothing to change' }),
);
/** A validated settings change. */
export type QuotaSettingsInput = z.infer<typeof quotaSettingsInputSchema>;

/** An increase request as returned by the API. */
export type IncreaseRequest = QuotaIncreaseRequestRow & { id: string; createdAt: string };

function view(row: Row<QuotaIncreaseRequestRow>): IncreaseRequest {
  const r = quotaIncreaseRequestRowSchema.parse(row);
  return { id: row.$id, createdAt: row.$createdAt, ...r };
}

function actorLabel(actor: QuotaActor): string {
  return actor.userId ?? 'server';
}

function audit(
  actor: QuotaActor,
  action: QuotaAuditRow['action'],
  at: number,
  fields: { quotaType?: QuotaType | null; requestId?: string | null; detail: Record<string, unknown> },
): WriteOp {
  const row: QuotaAuditRow = {
    orgId: actor.orgId,
    actorId: actorLabel(actor),
    action,
    quotaType: fields.quotaType ?? null,
    requestId: fields.requestId ?? null,
    detail: JSON.stringify(fields.detail).slice(0, 4000),
    at: isoTime(at),
  };
  return { action: 'create', table: QUOTA_TABLES.audit, id: newId(), data: row };
}

/** Submits a request for the actor's org. Any member may. */
export async function submitIncreaseRequest(
  store: TableStore,
  actor: QuotaActor,
  input: IncreaseRequestInput,
  now: number,
): Promise<IncreaseRequest> {
  const pending = await store.list(QUOTA_TABLES.increaseRequests, {
    where: [
      { field: 'orgId', op: 'eq', value: actor.orgId },
      { field: 'status', op: 'eq', value: 'pending' },
    ],
    limit: MAX_PENDING_REQUESTS,
    select: ['status'],
  });
  if (pending.rows.length >= MAX_PENDING_REQUESTS) {
    throw errors.conflict(`The organization already has ${MAX_PENDING_REQUESTS} pending increase requests`, {
      pending: pending.rows.length,
    });
  }
  const id = newId();
  const row: QuotaIncreaseRequestRow = {
    orgId: actor.orgId,
    quotaType: input.quotaType,
    amount: input.amount,
    durationDays: input.permanent ? null : (input.durationDays ?? null),
    reason: input.reason,
    status: 'pending',
    requestedBy: actorLabel(actor),
    decidedBy: null,
    decidedAt: null,
    decisionNote: null,
    expiresAt: null,
    version: 0,
  };
  await commitAudited(store, [
    { action: 'create', table: QUOTA_TABLES.increaseRequests, id, data: row },
    audit(actor, 'increase.submitted', now, {
      quotaType: input.quotaType,
      requestId: id,
      detail: { amount: input.amount, durationDays: row.durationDays, reason: input.reason },
    }),
  ]);
  const stored = await store.get<QuotaIncreaseRequestRow>(QUOTA_TABLES.increaseRequests, id);
  if (!stored) throw errors.internal('Increase request vanished after create');
  return view(stored);
}

/** Reads a request of the actor's org: NOT_FOUND when missing, FORBIDDEN when it belongs to another org. */
export async function getIncreaseRequest(
  store: TableStore,
  actor: QuotaActor,
  requestId: string,
): Promise<IncreaseRequest> {
  if (!ID_PATTERN.test(requestId)) {
    throw errors.invalidInput('Malformed request id', [{ path: 'requestId', message: 'invalid id' }]);
  }
  const row = await store.get<QuotaIncreaseRequestRow>(QUOTA_TABLES.increaseRequests, requestId);
  // Another organization's request answers exactly like a missing one: its existence is not revealed.
  if (!row || row.orgId !== actor.orgId) throw errors.notFound('No such increase request', { requestId });
  return view(row);
}

/** Approves or rejects a pending request of the actor's org, exactly once. Admins and server calls only. */
export async function decideIncreaseRequest(
  store: TableStore,
  actor: QuotaActor,
  requestId: string,
  decision: 'approved' | 'rejected',
  note: string | undefined,
  now: number,
): Promise<IncreaseRequest> {
  if (!actor.isAdmin) throw errors.forbidden('Deciding increase requests needs the owner or admin role');
  const current = await getIncreaseRequest(store, actor, requestId);
  if (current.status !== 'pending') {
    throw errors.conflict(`Increase request is already ${current.status}`, {
      requestId,
      status: current.status,
    });
  }
  const expiresAt =
    decision === 'approved' && current.durationDays !== null
      ? isoTime(now + current.durationDays * 86_400_000)
      : null;
  const patch: Partial<QuotaIncreaseRequestRow> = {
    status: decision,
    decidedBy: actorLabel(actor),
    decidedAt: isoTime(now),
    decisionNote: note ?? null,
    expiresAt,
  };
  try {
    await commitAudited(store, [
      ...versionedUpdate(
        { table: QUOTA_TABLES.increaseRequests, id: requestId, expected: current.version },
        patch,
      ),
      audit(actor, decision === 'approved' ? 'increase.approved' : 'increase.rejected', now, {
        quotaType: current.quotaType,
        requestId,
        detail: { amount: current.amount, durationDays: current.durationDays, expiresAt, note: note ?? null },
      }),
    ]);
  } catch (error) {
    if (hasCode(error, 'BOUND_EXCEEDED')) {
      throw errors.conflict('Increase request was decided concurrently', { requestId });
    }
    throw error;
  }
  return getIncreaseRequest(store, actor, requestId);
}

/** Lists the actor's org's requests, newest first (optionally one status). */
export async function listIncreaseRequests(
  store: TableStore,
  actor: QuotaActor,
  options: { status?: IncreaseStatus; limit?: number; cursor?: string } = {},
): Promise<{ requests: IncreaseRequest[]; nextCursor: string | null }> {
  if (options.status !== undefined && !INCREASE_STATUSES.includes(options.status)) {
    throw errors.invalidInput('Unknown status', [
      { path: 'status', message: `one of ${INCREASE_STATUSES.join(', ')}` },
    ]);
  }
  const page = await store.list<QuotaIncreaseRequestRow>(QUOTA_TABLES.increaseRequests, {
    where: [
      { field: 'orgId', op: 'eq', value: actor.orgId },
      ...(options.status ? [{ field: 'status', op: 'eq' as const, value: options.status }] : []),
    ],
    orderBy: [{ field: '$createdAt', direction: 'desc' }],
    limit: Math.min(Math.max(1, options.limit ?? 50), 100),
    ...(options.cursor ? { cursor: options.cursor } : {}),
  });
  return { requests: page.rows.map(view), nextCursor: page.nextCursor };
}

/** One audit entry as returned by the API. */
export type QuotaAuditEntry = Omit<QuotaAuditRow, 'detail'> & { id: string; detail: unknown };

/** The org's audit trail, newest first. Admins (and server calls) only. */
export async function listQuotaAudit(
  store: TableStore,
  actor: QuotaActor,
  options: { limit?: number; cursor?: string } = {},
): Promise<{ entries: QuotaAuditEntry[]; nextCursor: string | null }> {
  if (!actor.isAdmin) throw errors.forbidden('The quota audit trail needs the owner or admin role');
  const page = await store.list<QuotaAuditRow>(QUOTA_TABLES.audit, {
    where: [{ field: 'orgId', op: 'eq', value: actor.orgId }],
    orderBy: [
      { field: 'at', direction: 'desc' },
      { field: '$sequence', direction: 'desc' },
    ],
    limit: Math.min(Math.max(1, options.limit ?? 50), 100),
    ...(options.cursor ? { cursor: options.cursor } : {}),
  });
  return {
    entries: page.rows.map((r) => {
      const row = quotaAuditRowSchema.parse(r);
      return { id: r.$id, ...row, detail: JSON.parse(row.detail) as unknown };
    }),
    nextCursor: page.nextCursor,
  };
}

/** Marks approved requests whose `expiresAt` has passed as `expired` (audited). Idempotent. Returns how many. */
export async function expireIncreases(store: TableStore, now: number): Promise<number> {
  let expired = 0;
  for (;;) {
    const page = await store.list<QuotaIncreaseRequestRow>(QUOTA_TABLES.increaseRequests, {
      where: [
        { field: 'status', op: 'eq', value: 'approved' },
        { field: 'expiresAt', op: 'lte', value: isoTime(now) },
      ],
      limit: 100,
    });
    if (!page.rows.length) return expired;
    let progressed = false;
    for (const row of page.rows) {
      const r = view(row);
      try {
        const ops: WriteOp[] = [
          ...versionedUpdate(
            { table: QUOTA_TABLES.increaseRequests, id: r.id, expected: r.version },
            { status: 'expired' },
          ),
          audit({ userId: 'system', orgId: r.orgId, isAdmin: true }, 'increase.expired', now, {
            quotaType: r.quotaType,
            requestId: r.id,
            detail: { amount: r.amount, expiresAt: r.expiresAt },
          }),
        ];
        // Not applied after an unknown outcome: the request is still approved and the next run expires it.
        if ((await commitWithReceipt(store, ops, receiptOf(ops, QUOTA_TABLES.audit))) === 'not-applied')
          continue;
        expired++;
        progressed = true;
      } catch (error) {
        // A concurrent quota-reset run expired it first: fine.
        if (!hasCode(error, 'BOUND_EXCEEDED', 'NOT_FOUND')) throw error;
      }
    }
    if (!progressed) return expired;
  }
}

/** Changes an org's plan, zone, overrides or shadow list (operators: server calls only). Audited. */
export async function updateQuotaSettings(
  store: TableStore,
  actor: QuotaActor,
  input: QuotaSettingsInput,
  now: number,
): Promise<QuotaSettingsRow> {
  if (actor.userId !== null) throw errors.forbidden('Quota settings are changed by operators (API key) only');
  assertQuotaOrgId(actor.orgId);
  const id = settingsRowId(actor.orgId);
  const existing = await store.get(QUOTA_TABLES.settings, id);
  const current = settingsOf(existing);
  const overrides: LimitOverrides = input.overrides ?? current.overrides;
  const next: QuotaSettingsRow = {
    orgId: actor.orgId,
    plan: input.plan ?? current.plan,
    timeZone: input.timeZone ?? current.timeZone,
    overrides: JSON.stringify(overrides),
    shadow: input.shadow ?? current.shadow,
    updatedBy: actorLabel(actor),
  };
  await commitAudited(store, [
    { action: 'upsert', table: QUOTA_TABLES.settings, id, data: next },
    audit(actor, 'settings.updated', now, {
      detail: { before: existing ? current : null, after: { ...next, overrides } },
    }),
  ]);
  return next;
}

/**
 * Commits a change with its audit row, the audit row serving as the receipt (quota/commit.ts): an unknown outcome
 * is resolved by reading it back. Not applied → RETRYABLE (nothing was written; retrying is safe).
 */
async function commitAudited(store: TableStore, ops: WriteOp[]): Promise<void> {
  if ((await commitWithReceipt(store, ops, receiptOf(ops, QUOTA_TABLES.audit))) === 'not-applied') {
    throw errors.retryable('The change was not applied (the commit failed); retry');
  }
}
