import { AppwriteException } from 'node-appwrite';
import { describe, expect, it } from 'vitest';
import { createTeamsOrgDirectory, type TeamsApi } from './teams-org-directory.ts';

function fakeTeams(answer: (teamId: string) => unknown): TeamsApi & { calls: number } {
  const api = {
    calls: 0,
    async listMemberships(params: { teamId: string }) {
      api.calls++;
      const result = answer(params.teamId);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return api;
}

describe('createTeamsOrgDirectory', () => {
  it('returns the roles of a confirmed membership and memoizes per directory', async () => {
    const teams = fakeTeams(() => ({
      total: 1,
      memberships: [{ userId: 'u1', confirm: true, roles: ['owner'] }],
    }));
    const orgs = createTeamsOrgDirectory({ teams });
    expect(await orgs.rolesOf('t', 'u1')).toEqual(['owner']);
    expect(await orgs.rolesOf('t', 'u1')).toEqual(['owner']);
    expect(teams.calls).toBe(1);
  });

  it('treats an unconfirmed invitation, no membership and a missing team as "not a member"', async () => {
    const unconfirmed = fakeTeams(() => ({ memberships: [{ userId: 'u1', confirm: false, roles: [] }] }));
    expect(await createTeamsOrgDirectory({ teams: unconfirmed }).rolesOf('t', 'u1')).toBeNull();
    const none = fakeTeams(() => ({ memberships: [] }));
    expect(await createTeamsOrgDirectory({ teams: none }).rolesOf('t', 'u1')).toBeNull();
    const missing = fakeTeams(() => new AppwriteException('no team', 404, 'team_not_found', ''));
    expect(await createTeamsOrgDirectory({ teams: missing }).rolesOf('t', 'u1')).toBeNull();
  });

  it('surfaces outages as RETRYABLE and does not cache them', async () => {
    let fail = true;
    const teams = fakeTeams(() =>
      fail
        ? new AppwriteException('down', 503, 'general_unknown', '')
        : { memberships: [{ userId: 'u', roles: [] }] },
    );
    const orgs = createTeamsOrgDirectory({ teams });
    await expect(orgs.rolesOf('t', 'u')).rejects.toMatchObject({ code: 'RETRYABLE' });
    fail = false;
    expect(await orgs.rolesOf('t', 'u')).toEqual([]);
  });
});
