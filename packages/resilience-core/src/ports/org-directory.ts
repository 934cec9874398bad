/**
 * OrgDirectory: who belongs to which organization, and with which roles. An organization is an Appwrite team;
 * roles are the team membership roles (`owner` for the creator, `admin`, custom ones).
 *
 * Promises: `rolesOf` reflects confirmed memberships only (an invited but unconfirmed user is not a member);
 * an unknown organization reads as "not a member" (never a distinct error, so callers cannot probe which
 * organizations exist). Transient backend failures surface as `RETRYABLE`.
 */
export interface OrgDirectory {
  /** The roles of `userId` in `orgId`, or `null` when the user is not a confirmed member. */
  rolesOf(orgId: string, userId: string): Promise<string[] | null>;
}

/** Roles that may perform an org's admin actions. */
export const ORG_ADMIN_ROLES: readonly string[] = ['owner', 'admin'];

/** True when `userId` is a confirmed member of `orgId`. */
export async function isMember(orgs: OrgDirectory, orgId: string, userId: string): Promise<boolean> {
  return (await orgs.rolesOf(orgId, userId)) !== null;
}

/** True when `userId` holds `owner` or `admin` in `orgId`. */
export async function isOrgAdmin(orgs: OrgDirectory, orgId: string, userId: string): Promise<boolean> {
  const roles = await orgs.rolesOf(orgId, userId);
  return roles?.some((r) => ORG_ADMIN_ROLES.includes(r)) ?? false;
}
