import { errors } from '../errors.ts';
import { ID_MESSAGE, ID_PATTERN } from '../ids.ts';
import { ORG_ADMIN_ROLES, type OrgDirectory } from '../ports/org-directory.ts';

/**
 * Who may call a route:
 * - `any`: anyone the function's `execute` permission admits (no check here).
 * - `member`: a signed-in user who is a confirmed member of the request's org, or a server call (API key).
 * - `admin`: a user holding `owner` or `admin` in the request's org, or a server call (API key).
 * - `key`: server calls only (API key / dynamic key, no user).
 *
 * "Server call" means the execution carries no `x-appwrite-user-id`. Appwrite sets that header whenever a
 * user session executes the function, so an empty one means an API key (or a schedule/event trigger) —
 * provided the function's `execute` list does not include `any` or `guests`; appwrite.json's check enforces
 * that for every function with `member`/`admin`/`key` routes.
 */
export type AuthLevel = 'any' | 'member' | 'admin' | 'key';

/** The caller of an execution, as handlers see it. */
export interface Caller {
  /** `user`: a signed-in user (`userId` set). `server`: an API-key execution or a trigger (no user). */
  kind: 'user' | 'server';
  userId: string | null;
  /** The org the request acts for (see {@link orgIdOf}), once resolved. */
  orgId: string | null;
  /** The user's roles in `orgId` (empty for server calls or when not checked). */
  roles: string[];
}

/** The caller from the execution headers (roles not yet resolved). */
export function callerOf(headers: Record<string, string | undefined>): Caller {
  const userId = headers['x-appwrite-user-id']?.trim() || null;
  return { kind: userId ? 'user' : 'server', userId, orgId: null, roles: [] };
}

/**
 * The org a request acts for. One rule for every route: the `orgId` path parameter, else the body's `orgId`,
 * else the query's `orgId`. If two of them are present and differ the request is refused (400), so a caller
 * cannot be authorized for one org and act on another. Pass the raw and the schema-parsed body and query
 * (`bodies`, `queries`): a schema that trims, coerces or defaults `orgId` cannot make the org the handler sees
 * differ from the org that was authorized. An `orgId` that is present but not a string, or not an Appwrite id
 * (1–36 of `[a-zA-Z0-9._-]`, not starting with a special character), is refused (400) before any lookup.
 */
export function orgIdOf(
  params: Record<string, string>,
  body: unknown,
  query: Record<string, unknown>,
  more: { bodies?: readonly unknown[]; queries?: readonly Record<string, unknown>[] } = {},
): string | null {
  // Own properties only: a `__proto__` key in JSON must not supply an org.
  const own = (source: unknown) =>
    typeof source === 'object' && source !== null && !Array.isArray(source) && Object.hasOwn(source, 'orgId')
      ? (source as { orgId?: unknown }).orgId
      : undefined;
  const candidates = [
    Object.hasOwn(params, 'orgId') ? params.orgId : undefined,
    own(body),
    ...(more.bodies ?? []).map(own),
    own(query),
    ...(more.queries ?? []).map(own),
  ].filter((v) => v !== undefined && v !== null && v !== '');
  for (const v of candidates) {
    if (typeof v !== 'string' || !ID_PATTERN.test(v)) {
      throw errors.invalidInput('orgId is not a valid organization id', [
        { path: 'orgId', message: ID_MESSAGE },
      ]);
    }
  }
  const distinct = [...new Set(candidates as string[])];
  if (distinct.length > 1) {
    throw errors.invalidInput('orgId given twice with different values', [
      { path: 'orgId', message: 'path, body and query orgId must agree' },
    ]);
  }
  return distinct[0] ?? null;
}

/**
 * Checks `level` for `caller` and returns the caller with `orgId` and `roles` filled in. Refusals: 403 when
 * the user is not a member / not an admin / not a server call, 400 when a user calls a `member`/`admin` route
 * without an orgId (a server call may omit it: `caller.orgId` is then `null`). (No 401 here: Appwrite's `execute` permission already turned away unauthenticated users.)
 */
export async function authorize(
  level: AuthLevel,
  caller: Caller,
  orgId: string | null,
  orgs: () => OrgDirectory,
): Promise<Caller> {
  if (level === 'any') return { ...caller, orgId };
  if (level === 'key') {
    if (caller.kind !== 'server') throw errors.forbidden('This route is for server calls (API key) only');
    return { ...caller, orgId };
  }
  // A server call (API key) acts for any org, or for none (cross-org admin work such as resets).
  if (caller.kind === 'server') return { ...caller, orgId };
  if (!orgId) {
    throw errors.invalidInput('orgId is required', [{ path: 'orgId', message: 'required' }]);
  }
  const roles = await orgs().rolesOf(orgId, caller.userId!);
  if (roles === null) throw errors.forbidden('You are not a member of this organization');
  if (level === 'admin' && !roles.some((r) => ORG_ADMIN_ROLES.includes(r))) {
    throw errors.forbidden('This action needs the owner or admin role in the organization');
  }
  return { ...caller, orgId, roles };
}
