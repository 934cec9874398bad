import { type Client, Query } from 'node-appwrite';
import { hasCode } from '../../errors.ts';
import type { OrgDirectory } from '../../ports/org-directory.ts';
import { translateAppwriteError } from './errors.ts';
import { createTeamsApi } from './lean-services.ts';
import { pathSegment } from './path-segment.ts';

/** The subset of node-appwrite `Teams` used (tests inject a fake). */
export interface TeamsApi {
  listMemberships(params: { teamId: string; queries?: string[]; total?: boolean }): Promise<unknown>;
}

/** Options of {@link createTeamsOrgDirectory}: a configured client, or a `teams` service (tests). */
export interface TeamsOrgDirectoryOptions {
  client?: Client;
  teams?: TeamsApi;
}

/**
 * The OrgDirectory over Appwrite Teams: an org is a team; `rolesOf` lists the team's memberships filtered by
 * `userId` (one round trip; needs the `teams.read` scope) and keeps confirmed ones. A missing team reads as
 * "not a member". Memoizes answers for the directory's lifetime (create one per execution).
 */
export function createTeamsOrgDirectory(options: TeamsOrgDirectoryOptions): OrgDirectory {
  const teams: TeamsApi =
    options.teams ??
    (options.client
      ? createTeamsApi(options.client)
      : (() => {
          throw new Error('createTeamsOrgDirectory needs `client` or `teams`');
        })());
  const cache = new Map<string, Promise<string[] | null>>();

  async function lookup(orgId: string, userId: string): Promise<string[] | null> {
    try {
      const list = (await teams.listMemberships({
        // An org id that is not an Appwrite id is refused, never sent as a path segment.
        teamId: pathSegment(orgId, 'orgId'),
        queries: [Query.equal('userId', [userId]), Query.limit(1)],
        total: false,
      })) as { memberships?: Array<{ userId?: string; confirm?: boolean; roles?: string[] }> };
      const membership = (list.memberships ?? []).find((m) => m.userId === userId && m.confirm !== false);
      return membership ? [...(membership.roles ?? [])] : null;
    } catch (error) {
      const translated = translateAppwriteError(error, { operation: 'listMemberships', id: orgId });
      if (hasCode(translated, 'NOT_FOUND')) return null;
      throw translated;
    }
  }

  return {
    rolesOf(orgId, userId) {
      const key = `${orgId}\u0000${userId}`;
      let pending = cache.get(key);
      if (!pending) {
        pending = lookup(orgId, userId);
        cache.set(key, pending);
        pending.catch(() => cache.delete(key));
      }
      return pending.then((roles) => (roles ? [...roles] : null));
    },
  };
}
