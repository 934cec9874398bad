import { z } from 'zod';
import { errorText } from '../error-classification.ts';
import { errors, hasCode } from '../errors.ts';
import { NAME_PATTERN, newId, stableId } from '../ids.ts';
import { cursorSchema, openCursor, sealedPage } from '../ports/cursor.ts';
import type { Logger } from '../ports/logger.ts';
import type { OrgDirectory } from '../ports/org-directory.ts';
import type { Row, TableStore } from '../ports/table-store.ts';
import { lazySchema } from '../schema/lazy-schema.ts';
import { type Admission, type RecognitionHooks, safely } from './hooks.ts';
import {
  MESSAGE_MAX,
  POINTS_MAX,
  RECOGNITIONS_TABLE,
  type RecognitionData,
  recognitionRowSchema,
  TAG_MAX_LENGTH,
  TAGS_MAX,
} from './tables.ts';

const userId = lazySchema(() => z.string().trim().min(1).max(36));

/** The body of `POST /recognitions`. */
export const createRecognitionInputSchema = lazySchema(() =>
  z.object({
    /** The organization (Appwrite team id) the recognition is given in. */
    orgId: z.string().trim().min(1).max(36),
    receiverId: userId,
    message: z.string().trim().min(1).max(MESSAGE_MAX),
    /** Default 0. */
    points: z.number().int().min(0).max(POINTS_MAX).default(0),
    /** Default []; duplicates are removed. */
    tags: z
      .array(z.string().trim().min(1).max(TAG_MAX_LENGTH))
      .max(TAGS_MAX)
      .default([])
      .transform((t) => [...new Set(t)]),
    /**
     * Makes retries safe: the same giver sending the same `requestId` in the same org gets the first
     * recognition back (200) instead of a second one. 1–64 characters `[A-Za-z0-9._-]`.
     */
    requestId: z.string().regex(NAME_PATTERN).optional(),
    /** Only for server calls (API key, e.g. imports): the giver. Users always give as themselves. */
    giverId: userId.optional(),
  }),
);

/** Validated input of {@link createRecognition}. */
export type CreateRecognitionInput = z.output<typeof createRecognitionInputSchema>;

/** What {@link createRecognition} needs. */
export interface RecognitionDeps {
  store: TableStore;
  orgs: OrgDirectory;
  hooks?: RecognitionHooks;
  log: Logger;
  traceId: string;
}

/** The caller as the app sees it: a user, or a server call (no user). */
export interface RecognitionCaller {
  userId: string | null;
}

/** The outcome: the row, and whether it was created now (201) or found from an earlier identical request (200). */
export interface CreateRecognitionResult {
  row: Row<RecognitionData>;
  created: boolean;
  /** Response headers from the hooks' admission (e.g. `RateLimit-*`); `{}` when none. */
  headers: Record<string, string>;
}

/**
 * Starts the reads {@link createRecognition} will need — the receiver's (and a server call's giver's)
 * membership and the hooks' `prepare` (quota limits) — so that, run while the kit authorizes the caller (a
 * route's `prefetch`), they cost no round trip of latency: `createRecognition` then finds them in the
 * per-execution caches (the org directory and the quota service memoize). Reads only; a body that does not
 * validate starts nothing; failures are ignored (`createRecognition` meets them again).
 */
export function prefetchRecognition(
  rawBody: unknown,
  caller: RecognitionCaller,
  deps: RecognitionDeps,
): void {
  const parsed = createRecognitionInputSchema.safeParse(rawBody);
  if (!parsed.success) return;
  const input = parsed.data;
  const ignore = () => undefined;
  deps.orgs.rolesOf(input.orgId, input.receiverId).catch(ignore);
  if (!caller.userId && input.giverId) deps.orgs.rolesOf(input.orgId, input.giverId).catch(ignore);
  Promise.resolve()
    .then(() => deps.hooks?.prepare?.(input.orgId, deps.log))
    .catch(ignore);
}

/**
 * A member of an org recognizes another member. The caller's own membership is checked by the route's auth;
 * here: the giver is the calling user (a server call must name `giverId`, who must be a member), the receiver
 * must be a member (403 otherwise), and nobody recognizes themselves (400). Then `hooks.beforeCreate` (quota),
 * the write, and `hooks.afterCreate` (notifications). Nothing is written on any refusal.
 */
export async function createRecognition(
  input: CreateRecognitionInput,
  caller: RecognitionCaller,
  deps: RecognitionDeps,
): Promise<CreateRecognitionResult> {
  let giverId: string;
  if (caller.userId) {
    if (input.giverId !== undefined && input.giverId !== caller.userId) {
      throw errors.forbidden('You can only give recognitions as yourself');
    }
    giverId = caller.userId;
  } else {
    if (!input.giverId) {
      throw errors.invalidInput('giverId is required for server calls', [
        { path: 'giverId', message: 'required when no user calls' },
      ]);
    }
    giverId = input.giverId;
  }
  if (input.receiverId === giverId) {
    throw errors.invalidInput('You cannot recognize yourself', [
      { path: 'receiverId', message: 'must differ from the giver' },
    ]);
  }
  // One round trip of latency for all of it: the membership lookups (a user caller's own was done and cached
  // by the route's auth) run in parallel with the hooks' `prepare` (quota limits). `prepare` failures are ignored.
  const [giverRoles, receiverRoles] = await Promise.all([
    caller.userId ? [] : deps.orgs.rolesOf(input.orgId, giverId),
    deps.orgs.rolesOf(input.orgId, input.receiverId),
    Promise.resolve()
      .then(() => deps.hooks?.prepare?.(input.orgId, deps.log))
      .catch(() => undefined),
  ]);
  if (giverRoles === null) throw errors.forbidden('The giver is not a member of this organization');
  if (receiverRoles === null) throw errors.forbidden('The receiver is not a member of this organization');

  const data: RecognitionData = recognitionRowSchema.parse({
    orgId: input.orgId,
    giverId,
    receiverId: input.receiverId,
    message: input.message,
    points: input.points,
    tags: input.tags,
  });
  const id = input.requestId ? stableId('rec', input.orgId, giverId, input.requestId) : newId();

  const admission = await deps.hooks?.beforeCreate?.({ ...data, id, traceId: deps.traceId }, deps.log);
  let row: Row<RecognitionData>;
  try {
    row = await deps.store.create<RecognitionData>(RECOGNITIONS_TABLE, id, data);
  } catch (error) {
    await safely(() => admission?.rollback?.(), deps.log, 'rollback');
    if (input.requestId && hasCode(error, 'CONFLICT')) {
      const existing = await deps.store.get<RecognitionData>(RECOGNITIONS_TABLE, id);
      if (existing && existing.giverId === giverId && existing.orgId === input.orgId) {
        return { row: parseRow(existing), created: false, headers: admissionHeaders(admission, deps.log) };
      }
    }
    throw error;
  }
  // The row is stored: from here on a hook failure is logged and never turns the 201 into an error.
  await safely(() => admission?.commit?.(), deps.log, 'commit');
  await safely(() => deps.hooks?.afterCreate?.(row, deps.log), deps.log, 'afterCreate');
  return { row: parseRow(row), created: true, headers: admissionHeaders(admission, deps.log) };
}

/** The admission's response headers; a failure to build them is logged, never fails the request. */
function admissionHeaders(admission: Admission | undefined, log: Logger): Record<string, string> {
  try {
    return { ...(admission?.headers?.() ?? {}) };
  } catch (error) {
    log.error('recognition admission headers failed', {
      error: errorText(error),
    });
    return {};
  }
}

/** Query of `GET /orgs/:orgId/recognitions`. */
export const listRecognitionsQuerySchema = lazySchema(() =>
  z.object({
    /** Only recognitions received by this user. */
    receiverId: userId.optional(),
    /** Only recognitions given by this user. */
    giverId: userId.optional(),
    /** Page size, 1..100, default 25. */
    limit: z.coerce.number().int().min(1).max(100).default(25),
    /** The `nextCursor` of the previous page (opaque, bound to this org's list: ports/cursor.ts). */
    cursor: cursorSchema.optional(),
  }),
);

/**
 * A page of an org's recognitions, newest first. `query.cursor` is an opaque cursor of this org's list (with
 * the same filters); one of another org, another list or an unknown row is a 400 on `cursor` that tells
 * nothing about other orgs' rows ({@link openCursor}: one `get` when a cursor is given).
 */
export async function listRecognitions(
  orgId: string,
  query: z.output<typeof listRecognitionsQuerySchema>,
  store: TableStore,
): Promise<{ rows: Row<RecognitionData>[]; nextCursor: string | null }> {
  const scope = {
    table: RECOGNITIONS_TABLE,
    match: { orgId, receiverId: query.receiverId, giverId: query.giverId },
  };
  return sealedPage(store, query.cursor, scope, async (cursor) => {
    const page = await store.list<RecognitionData>(RECOGNITIONS_TABLE, {
      where: [
        { field: 'orgId', op: 'eq', value: orgId },
        ...(query.receiverId ? [{ field: 'receiverId', op: 'eq' as const, value: query.receiverId }] : []),
        ...(query.giverId ? [{ field: 'giverId', op: 'eq' as const, value: query.giverId }] : []),
      ],
      orderBy: [{ field: '$sequence', direction: 'desc' }],
      limit: query.limit,
      ...(cursor ? { cursor } : {}),
    });
    return { rows: page.rows.map(parseRow), nextCursor: page.nextCursor };
  });
}

/** Validates a stored row (a corrupt row is a bug, reported as 500) and normalises unset columns. */
function parseRow(row: Row<RecognitionData>): Row<RecognitionData> {
  const columns = recognitionRowSchema.parse({ ...row, points: row.points ?? 0, tags: row.tags ?? [] });
  return { ...row, ...columns };
}
