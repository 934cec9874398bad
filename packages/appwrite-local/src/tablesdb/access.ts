/**
 * Table and row permissions for callers that are not API keys (users with `X-Appwrite-JWT`; guests never reach
 * the row routes here, see keys.ts GUEST_SCOPES). API keys bypass every check, as on Appwrite.
 *
 * What is enforced, following Appwrite's TablesDB rules (a permission `write("r")` counts as create, update and
 * delete; roles come from the caller's AuthContext):
 * - a disabled table is 404 `table_not_found`;
 * - create: the table's `create` permission, else 401 `user_unauthorized`; permissions a user sets on a row
 *   must name roles the user holds (else 401); none given → `read/update/delete("user:<id>")`, as Appwrite;
 * - get: the table's `read`, or with row security the row's `read`, else 404 `row_not_found`;
 * - list: the table's `read` → every row; else with row security → only rows the user may read (total too);
 *   else 401 `user_unauthorized`;
 * - update, increment/decrement, delete: the table's `update`/`delete`, or with row security the row's, else
 *   401 `user_unauthorized`; upsert needs `create` for a new row and `update` for an existing one;
 * - bulk row operations and transactions (including `transactionId` on a row route): 401 `user_unauthorized`
 *   for users here (a documented subset; Appwrite applies the same permission rules to them).
 */
import { AppwriteError } from '../errors.ts';
import { type ApiRequest, isKeyAuth } from '../server-context.ts';
import type { StoredRow } from './row-store.ts';
import type { TableSchema } from './schema-store.ts';

/** A row or table permission action. */
export type PermissionAction = 'read' | 'create' | 'update' | 'delete';

const PERMISSION_RE = /^(read|create|update|delete|write)\("(.+)"\)$/;

/** Whether `permissions` grant `action` to one of `roles` (`write` grants create, update and delete). */
export function permits(
  permissions: readonly string[],
  action: PermissionAction,
  roles: readonly string[],
): boolean {
  for (const p of permissions) {
    const m = PERMISSION_RE.exec(p);
    if (!m) continue;
    const granted = m[1] === action || (m[1] === 'write' && action !== 'read');
    if (granted && roles.includes(m[2] as string)) return true;
  }
  return false;
}

/** The permission checks of one request; every method is a no-op for API keys. */
export class RowAccess {
  private readonly key: boolean;
  private readonly roles: readonly string[];

  constructor(private readonly req: ApiRequest) {
    this.key = isKeyAuth(req.auth);
    this.roles = req.auth?.roles ?? [];
  }

  /** 404 `table_not_found` for a disabled table (API keys still see it). */
  table(t: TableSchema): TableSchema {
    if (!this.key && !t.enabled) throw new AppwriteError('table_not_found', undefined, t.id);
    return t;
  }

  /** 401 unless the caller is an API key (bulk operations, transactions). */
  keyOnly(what: string): void {
    if (!this.key)
      throw new AppwriteError(
        'user_unauthorized',
        `${what} are available to API keys only on appwrite-local.`,
      );
  }

  /** 401 unless the table grants `create`. */
  create(t: TableSchema): void {
    if (this.key || permits(t.permissions, 'create', this.roles)) return;
    throw this.refused('create', t.permissions);
  }

  /**
   * The permissions a new or updated row gets: what was given (each must name a role the caller holds, else
   * 401), or for a user's create without any the default `read/update/delete("user:<id>")`.
   */
  rowPermissions(given: string[] | undefined, creating: boolean): string[] | undefined {
    if (this.key) return given;
    if (given === undefined) {
      const id = this.req.auth?.userId;
      return creating && id
        ? [`read("user:${id}")`, `update("user:${id}")`, `delete("user:${id}")`]
        : undefined;
    }
    for (const p of given) {
      const m = PERMISSION_RE.exec(p);
      if (!m || !this.roles.includes(m[2] as string)) {
        throw new AppwriteError(
          'user_unauthorized',
          `Permissions must be one of: (${this.roles.map((r) => `"${r}"`).join(', ')})`,
        );
      }
    }
    return given;
  }

  /** Whether the caller may read `row` (table read, or row read with row security). */
  canRead(t: TableSchema, row: StoredRow): boolean {
    return (
      this.key ||
      permits(t.permissions, 'read', this.roles) ||
      (t.rowSecurity && permits(row.permissions, 'read', this.roles))
    );
  }

  /**
   * For lists: undefined when every row is visible (key or table read), the `read(...)` permission strings
   * a row must carry under row security, or 401 when the table is not readable and has no row security.
   */
  listFilter(t: TableSchema): string[] | undefined {
    if (this.key || permits(t.permissions, 'read', this.roles)) return undefined;
    if (!t.rowSecurity) throw this.refused('read', t.permissions);
    return this.roles.map((r) => `read("${r}")`);
  }

  /** 401 unless the table (or, with row security, the row) grants `action` (update or delete). */
  write(t: TableSchema, row: StoredRow | null, action: 'update' | 'delete'): void {
    if (this.key || permits(t.permissions, action, this.roles)) return;
    if (t.rowSecurity && row && permits(row.permissions, action, this.roles)) return;
    throw this.refused(action, [...t.permissions, ...(t.rowSecurity && row ? row.permissions : [])]);
  }

  /** Appwrite's refusal: 401 `user_unauthorized` naming the action, the allowed roles and the caller's. */
  private refused(action: PermissionAction, permissions: readonly string[]): AppwriteError {
    const allowed = permissions
      .map((p) => PERMISSION_RE.exec(p))
      .filter((m) => m !== null && (m[1] === action || (m[1] === 'write' && action !== 'read')))
      .map((m) => (m as RegExpExecArray)[2] as string);
    return new AppwriteError(
      'user_unauthorized',
      `Missing "${action}" permission for role "${this.roles.includes('users') ? 'users' : 'guests'}". Only ${JSON.stringify(allowed)} scopes are allowed and ${JSON.stringify(this.roles)} was given.`,
    );
  }
}
