import { z } from 'zod';
import { errors } from '../errors.ts';
import { ID_PATTERN } from '../ids.ts';
import { lazySchema } from '../schema/lazy-schema.ts';
import type { Scalar, TableStore } from './table-store.ts';

/**
 * Opaque, list-bound paging cursors for the routes that hand a `nextCursor` to callers.
 *
 * The port's cursor is a row id, and Appwrite positions `cursorAfter(id)` on any row of the table — so a raw
 * cursor taken from a request would let a member of org A ask about org B's rows (`200` positioned after an
 * existing id, `400` for an unknown one: an existence oracle), and let any string reach the backend.
 *
 * Decision: a cursor given to a caller is `base64url("1|<table>|<row id>")` ({@link sealCursor}); a cursor
 * coming back is opened by {@link openCursor}, which checks that it decodes, names this list's table and an
 * Appwrite id, and then READS the row and requires it to belong to the caller's own result set — every
 * `match` column (the org, and the list's filters) equal. Unknown row, foreign row, other table and garbage
 * all get the same 400 with a `cursor` field issue, so the answer says nothing about other orgs' rows.
 *
 * Why a membership read rather than an HMAC signature: an Appwrite function has no stable secret of its own
 * (the `x-appwrite-key` changes per execution, `APPWRITE_API_KEY` is optional), and a signing key would have
 * to be provisioned and rotated; the read proves membership with the store's own answer. Its cost is one
 * `get` per request that carries a cursor (first pages pay nothing). A row deleted between two pages (by
 * retention) makes its cursor stale: the same 400, and the caller starts again from the first page.
 */
export interface CursorScope {
  table: string;
  /**
   * Columns the cursor's row must have, e.g. `{ orgId }` plus the list's equality filters. `undefined`
   * values are ignored (an optional filter that was not given).
   */
  match: Record<string, Scalar | undefined>;
}

/** Query field schema of a cursor: base64url text of bounded length (anything else is a 400 on `cursor`). */
export const cursorSchema = lazySchema(() =>
  z
    .string()
    .min(4)
    .max(160)
    .regex(/^[A-Za-z0-9_-]+$/, 'not a cursor (use the nextCursor of the previous page)'),
);

const VERSION = '1';

/** The opaque cursor for the page after `rowId` in `scope`'s list (`null` stays `null`: the last page). */
export function sealCursor(rowId: string | null, scope: Pick<CursorScope, 'table'>): string | null {
  if (rowId === null) return null;
  return Buffer.from(`${VERSION}|${scope.table}|${rowId}`, 'utf8').toString('base64url');
}

function badCursor(): never {
  throw errors.invalidInput('Invalid cursor', [
    {
      path: 'cursor',
      message: 'not a cursor of this list (use the nextCursor of the previous page; a stale one starts over)',
    },
  ]);
}

/**
 * The row id a caller's cursor stands for, after checking it belongs to `scope` (see the module docs), or
 * `undefined` when no cursor was given. Throws `INVALID_INPUT` (field `cursor`) otherwise.
 */
export async function openCursor(
  store: TableStore,
  cursor: string | undefined,
  scope: CursorScope,
): Promise<string | undefined> {
  if (cursor === undefined || cursor === '') return undefined;
  if (!/^[A-Za-z0-9_-]{4,160}$/.test(cursor)) badCursor();
  const [version, table, rowId, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (version !== VERSION || table !== scope.table || rowId === undefined || rest.length > 0) badCursor();
  if (!ID_PATTERN.test(rowId)) badCursor();
  const row = await store.get(scope.table, rowId);
  if (!row) badCursor();
  for (const [field, value] of Object.entries(scope.match)) {
    if (value !== undefined && (row as Record<string, unknown>)[field] !== value) badCursor();
  }
  return rowId;
}

/**
 * One page of a caller-facing list: opens the caller's cursor against `scope`, runs `list` with the row id,
 * and seals the `nextCursor` of its result. `list` is the domain's own listing (its filters must include the
 * `match` columns).
 */
export async function sealedPage<P extends { nextCursor: string | null }>(
  store: TableStore,
  cursor: string | undefined,
  scope: CursorScope,
  list: (rowCursor: string | undefined) => Promise<P>,
): Promise<P> {
  const page = await list(await openCursor(store, cursor, scope));
  return { ...page, nextCursor: sealCursor(page.nextCursor, scope) };
}
