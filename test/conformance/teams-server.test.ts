/**
 * Conformance: Appwrite 1.9.5 `tests/e2e/Services/Teams/**` on the server side (API key, ProjectCustom,
 * SideServer) — TeamsBase.php, TeamsBaseServer.php and TeamsCustomServerTest.php — translated to node-appwrite
 * against appwrite-local. Each PHP assertion is one `expect`; a status-code assertion reads the status of the
 * response just answered from the server's trace (`lastStatus`). Client-side files (sessions, invitations
 * by e-mail, the console) are listed as skipped in teams-client.test.ts.
 */
import { ID, Query, type Teams, type Users } from 'node-appwrite';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  AS_GUEST,
  expectInt,
  failure,
  isValidDatetime,
  lastBody,
  lastStatus,
  rawCall,
} from '../appwrite-local-functions-conformance.ts';
import { type LocalHarness, startHarness } from '../appwrite-local-helpers.ts';
import { installAssertionCounter, skipUpstream, upstream } from './harness.ts';

installAssertionCounter();

let h: LocalHarness;
let teams: Teams;
let users: Users;
const status = () => lastStatus(h.trace);

beforeAll(async () => {
  h = await startHarness({ keys: [{ secret: 'teams-read-only', scopes: ['teams.read'] }] });
  teams = h.teams;
  users = h.users;
});

afterAll(async () => {
  await h.server.stop();
});

/** TeamsBase.php:21 createTeamHelper (one assertion). */
async function createTeamHelper(name = 'Arsenal', roles = ['player']) {
  const team = await teams.create({ teamId: ID.unique(), name, roles });
  expect(status()).toBe(201);
  return { teamUid: team.$id, teamName: team.name };
}

/** TeamsBaseServer.php:18 createServerMembershipHelper (one assertion). */
async function createServerMembershipHelper(teamUid: string) {
  const email = `${ID.unique()}friend@localhost.test`;
  const m = await teams.createMembership({
    teamId: teamUid,
    email,
    name: 'Friend User',
    roles: ['admin', 'editor'],
    url: 'http://localhost:5000/join-us#title',
  });
  expect(status()).toBe(201);
  return { teamUid, userUid: m.userId, membershipUid: m.$id };
}

upstream('Teams/TeamsBase.php:40', 'testCreateTeam', async () => {
  const response1 = await teams.create({ teamId: ID.unique(), name: 'Arsenal', roles: ['player'] });
  expect(status()).toBe(201);
  expect(response1.$id).not.toBe('');
  expect(response1.name).toBe('Arsenal');
  expect(response1.total).toBeGreaterThan(-1);
  expectInt(response1.total);
  expect(response1).toHaveProperty('prefs');
  expect(isValidDatetime(response1.$createdAt)).toBe(true);
  // Lines 69-113 run only on the console project (owner downgrade); this is a custom project.

  const teamId = ID.unique();
  const response2 = await teams.create({ teamId, name: 'Manchester United' });
  expect(status()).toBe(201);
  expect(response2.$id).not.toBe('');
  expect(response2.$id).toBe(teamId);
  expect(response2.name).toBe('Manchester United');
  expect(response2.total).toBeGreaterThan(-1);
  expectInt(response2.total);
  expect(response2).toHaveProperty('prefs');
  expect(isValidDatetime(response2.$createdAt)).toBe(true);

  const response3 = await teams.create({ teamId: ID.unique(), name: 'Newcastle' });
  expect(status()).toBe(201);
  expect(response3.$id).not.toBe('');
  expect(response3.name).toBe('Newcastle');
  expect(response3.total).toBeGreaterThan(-1);
  expectInt(response3.total);
  expect(isValidDatetime(response3.$createdAt)).toBe(true);

  // FAILURE: no params at all (the SDK refuses to send that, so through its transport).
  expect((await failure(rawCall(h.client, 'post', '/teams', {}))).code).toBe(400);

  const conflict = await failure(teams.create({ teamId, name: 'John' }));
  expect(conflict.code).toBe(409);
  expect(conflict.type).toBe('team_already_exists');
});

upstream('Teams/TeamsBase.php:171', 'testGetTeam', async () => {
  const { teamUid: id } = await createTeamHelper();
  const response = await teams.get({ teamId: id });
  expect(status()).toBe(200);
  expect(response.$id).not.toBe('');
  expect(response.name).toBe('Arsenal');
  expect(response.total).toBeGreaterThan(-1);
  expectInt(response.total);
  expect(response).toHaveProperty('prefs');
  expect(isValidDatetime(response.$createdAt)).toBe(true);
});

upstream('Teams/TeamsBase.php:198', 'testListTeams', async () => {
  const team1 = await createTeamHelper('Arsenal');
  await createTeamHelper('Manchester United');
  await createTeamHelper('Newcastle');

  let response = await teams.list();
  expect(status()).toBe(200);
  expect(response.total).toBeGreaterThan(0);
  expectInt(response.total);
  expect(response.teams.length).toBeGreaterThan(2);

  response = await teams.list({ queries: [Query.limit(2)] });
  expect(status()).toBe(200);
  expect(response.teams.length).toBe(2);

  response = await teams.list({ queries: [Query.offset(1)] });
  expect(status()).toBe(200);
  expect(response.teams.length).toBeGreaterThan(1);

  response = await teams.list({ queries: [Query.greaterThanEqual('total', 0)] });
  expect(status()).toBe(200);
  expect(response.teams.length).toBeGreaterThan(2);

  response = await teams.list({ queries: [Query.equal('name', ['Arsenal', 'Newcastle'])] });
  expect(status()).toBe(200);
  expect(response.teams.length).toBeGreaterThanOrEqual(2);

  response = await teams.list({ search: 'Manchester' });
  expect(status()).toBe(200);
  expect(response.total).toBeGreaterThan(0);
  expectInt(response.total);
  expect(response.teams.length).toBeGreaterThanOrEqual(1);
  expect(response.teams[0]?.name).toBe('Manchester United');

  response = await teams.list({ search: 'United' });
  expect(status()).toBe(200);
  expect(response.total).toBeGreaterThan(0);
  expectInt(response.total);
  expect(response.teams.length).toBeGreaterThanOrEqual(1);
  expect(response.teams[0]?.name).toBe('Manchester United');

  response = await teams.list({ search: team1.teamUid });
  expect(status()).toBe(200);
  expect(response.total).toBeGreaterThan(0);
  expectInt(response.total);
  expect(response.teams).toHaveLength(1);
  expect(response.teams[0]?.name).toBe('Arsenal');

  const page = await teams.list({ queries: [Query.limit(2)] });
  expect(status()).toBe(200);
  expect(page.total).toBeGreaterThan(0);
  expectInt(page.total);
  expect(page.teams).toHaveLength(2);

  response = await teams.list({ queries: [Query.limit(1), Query.cursorAfter(page.teams[0]!.$id)] });
  expect(status()).toBe(200);
  expect(response.total).toBeGreaterThan(0);
  expectInt(response.total);
  expect(response.teams).toHaveLength(1);
  expect(response.teams[0]?.$id).toBe(page.teams[1]?.$id);

  response = await teams.list({ queries: [Query.limit(1), Query.cursorBefore(page.teams[1]!.$id)] });
  expect(status()).toBe(200);
  expect(response.total).toBeGreaterThan(0);
  expectInt(response.total);
  expect(response.teams).toHaveLength(1);
  expect(response.teams[0]?.$id).toBe(page.teams[0]?.$id);

  // FAILURE: a cursor on a team that does not exist.
  expect((await failure(teams.list({ queries: [Query.cursorAfter('unknown')] }))).code).toBe(400);

  const withoutTotal = await teams.list({ total: false });
  expect(status()).toBe(200);
  expect(typeof withoutTotal).toBe('object');
  expect(Array.isArray(withoutTotal.teams)).toBe(true);
  expectInt(withoutTotal.total);
  expect(withoutTotal.total).toBe(0);
  expect(withoutTotal.teams.length).toBeGreaterThan(0);
});

upstream('Teams/TeamsBase.php:383', 'testUpdateTeam', async () => {
  let response = await teams.create({ teamId: ID.unique(), name: 'Demo' });
  expect(status()).toBe(201);
  expect(response.$id).not.toBe('');
  expect(response.name).toBe('Demo');
  expect(response.total).toBeGreaterThan(-1);
  expectInt(response.total);
  expect(isValidDatetime(response.$createdAt)).toBe(true);

  // The PHP test sends a stray `teamId` too (ignored by the route); only the SDK transport can send it.
  response = (await rawCall(h.client, 'put', `/teams/${response.$id}`, {
    teamId: ID.unique(),
    name: 'Demo New',
  })) as unknown as typeof response;
  expect(status()).toBe(200);
  expect(response.$id).not.toBe('');
  expect(response.name).toBe('Demo New');
  expect(response.total).toBeGreaterThan(-1);
  expectInt(response.total);
  expect(isValidDatetime(response.$createdAt)).toBe(true);
  expect(response).toHaveProperty('prefs');

  expect((await failure(rawCall(h.client, 'put', `/teams/${response.$id}`, {}))).code).toBe(400);
});

upstream('Teams/TeamsBase.php:431', 'testDeleteTeam', async () => {
  const response = await teams.create({ teamId: ID.unique(), name: 'Demo' });
  const teamUid = response.$id;
  expect(status()).toBe(201);
  expect(response.$id).not.toBe('');
  expect(response.name).toBe('Demo');
  expect(response.total).toBeGreaterThan(-1);
  expectInt(response.total);
  expect(response).toHaveProperty('prefs');
  expect(isValidDatetime(response.$createdAt)).toBe(true);

  await teams.delete({ teamId: teamUid });
  expect(status()).toBe(204);
  // assertEmpty(body): the 204 carried no body at all.
  expect(lastBody(h.trace)).toBeUndefined();

  expect((await failure(teams.get({ teamId: teamUid }))).code).toBe(404);
});

upstream('Teams/TeamsBase.php:474', 'testUpdateAndGetUserPrefs', async () => {
  const { teamUid: id } = await createTeamHelper();
  const updated = await teams.updatePrefs({
    teamId: id,
    prefs: { funcKey1: 'funcValue1', funcKey2: 'funcValue2' },
  });
  expect(status()).toBe(200);
  expect((updated as Record<string, unknown>).funcKey1).toBe('funcValue1');
  expect((updated as Record<string, unknown>).funcKey2).toBe('funcValue2');

  const prefs = await teams.getPrefs({ teamId: id });
  expect(status()).toBe(200);
  expect(prefs).toEqual({ funcKey1: 'funcValue1', funcKey2: 'funcValue2' });

  const team = await teams.get({ teamId: id });
  expect(status()).toBe(200);
  expect(team.prefs).toEqual({ funcKey1: 'funcValue1', funcKey2: 'funcValue2' });

  const bad = await failure(rawCall(h.client, 'put', `/teams/${id}/prefs`, { prefs: 'bad-string' }));
  expect(bad.code).toBe(400);
});

upstream('Teams/TeamsBaseServer.php:41', 'testGetTeamMemberships', async () => {
  const { teamUid: id } = await createTeamHelper();
  const response = await teams.listMemberships({ teamId: id });
  expect(status()).toBe(200);
  expect(response.total).toBe(0);
});

upstream('Teams/TeamsBaseServer.php:62', 'testGetTeamMembership (lines 62-87 and 150-166)', async () => {
  const team = await createTeamHelper();
  const { teamUid, membershipUid } = await createServerMembershipHelper(team.teamUid);

  const response = await teams.getMembership({ teamId: teamUid, membershipId: membershipUid });
  expect(status()).toBe(200);
  expect(response.$id).not.toBe('');
  expect(response.userId).not.toBe('');
  expect(response.mfa).toBe(false);
  expect(response.userName).not.toBe('');
  expect(response.userEmail).not.toBe('');
  expect(response.teamId).not.toBe('');
  expect(response.teamName).not.toBe('');
  expect(response.roles).toHaveLength(2);
  expect(isValidDatetime(response.joined)).toBe(true);
  expect(response.confirm).toBe(true);

  // Lines 89-148 change the project's memberships-privacy on the console (skipped below).

  const missing = await failure(
    teams.getMembership({ teamId: teamUid, membershipId: `${membershipUid}dasdasd` }),
  );
  expect(missing.code).toBe(404);

  // Without the API key: a guest.
  const guest = await failure(
    rawCall(h.client, 'get', `/teams/${teamUid}/memberships/${membershipUid}`, {}, AS_GUEST),
  );
  expect(guest.code).toBe(401);
});

skipUpstream(
  'Teams/TeamsBaseServer.php:89',
  'testGetTeamMembership: memberships-privacy (lines 89-148)',
  'PATCH /projects/{id}/auth/memberships-privacy is a console route (root session); appwrite-local serves no console',
);

upstream('Teams/TeamsBaseServer.php:169', 'testCreateTeamMembership', async () => {
  const { teamUid } = await createTeamHelper();
  const email = `${ID.unique()}friend@localhost.test`;
  const params = { teamId: teamUid, email, name: 'Friend User', roles: ['admin', 'editor'] };
  const url = 'http://localhost:5000/join-us#title';

  const response = await teams.createMembership({ ...params, url });
  expect(status()).toBe(201);
  expect(response.$id).not.toBe('');
  expect(response.userId).not.toBe('');
  expect(response.userName).toBe('Friend User');
  expect(response.userEmail).toBe(email);
  expect(response.teamId).not.toBe('');
  expect(response.roles).toHaveLength(2);
  expect(isValidDatetime(response.joined)).toBe(true);
  expect(response.confirm).toBe(true);

  expect((await failure(teams.createMembership({ ...params, url }))).code).toBe(409);
  expect(
    (await failure(teams.createMembership({ ...params, email: 'dasdkaskdjaskdjasjkd', url }))).code,
  ).toBe(400);
  const badRoles = await failure(
    rawCall(h.client, 'post', `/teams/${teamUid}/memberships`, { ...params, roles: 'bad string', url }),
  );
  expect(badRoles.code).toBe(400);
  const badUrl = await failure(
    teams.createMembership({ ...params, url: 'http://example.com/join-us#title' }),
  );
  expect(badUrl.code).toBe(400);
});

upstream('Teams/TeamsBaseServer.php:251', 'testUpdateMembershipRoles', async () => {
  const team = await createTeamHelper();
  const { teamUid, membershipUid } = await createServerMembershipHelper(team.teamUid);

  const roles = ['admin', 'editor', 'uncle'];
  const response = await teams.updateMembership({ teamId: teamUid, membershipId: membershipUid, roles });
  expect(status()).toBe(200);
  expect(response.$id).not.toBe('');
  expect(response.userId).not.toBe('');
  expect(response.teamId).not.toBe('');
  expect(response.roles).toHaveLength(roles.length);
  expect(response.roles[0]).toBe(roles[0]);
  expect(response.roles[1]).toBe(roles[1]);
  expect(response.roles[2]).toBe(roles[2]);

  // A key with teams.read only (the PHP test makes one with getNewKey; the server is started with it).
  const readOnly = await failure(
    rawCall(
      h.client,
      'patch',
      `/teams/${teamUid}/memberships/${membershipUid}`,
      { roles },
      { 'X-Appwrite-Key': 'teams-read-only' },
    ),
  );
  expect(readOnly.code).toBe(401);
});

upstream('Teams/TeamsBaseServer.php:297', 'testDeleteUserUpdatesTeamMembershipCount', async () => {
  const team = await createTeamHelper();
  const { teamUid, userUid } = await createServerMembershipHelper(team.teamUid);

  let response = await teams.get({ teamId: teamUid });
  expect(status()).toBe(200);
  expect(response.$id).not.toBe('');
  expect(response.name).toBe('Arsenal');
  expect(response.total).toBe(1);
  expectInt(response.total);
  expect(isValidDatetime(response.$createdAt)).toBe(true);

  await users.delete({ userId: userUid });
  expect(status()).toBe(204);

  // assertEventually: appwrite-local deletes memberships with the user, so the first read must already agree.
  response = await teams.get({ teamId: teamUid });
  expect(status()).toBe(200);
  expect(response.$id).not.toBe('');
  expect(response.name).toBe('Arsenal');
  expect(response.total).toBe(0);
  expectInt(response.total);
  expect(isValidDatetime(response.$createdAt)).toBe(true);
});

upstream('Teams/TeamsCustomServerTest.php:21', 'testMembershipDeletedWhenTeamDeleted', async () => {
  const team = await teams.create({ teamId: ID.unique(), name: 'Demo' });
  const teamUid = team.$id;
  expect(status()).toBe(201);
  expect(team.$id).not.toBe('');
  expect(team.name).toBe('Demo');
  expect(team.total).toBeGreaterThan(-1);
  expectInt(team.total);
  expect(team).toHaveProperty('prefs');
  expect(isValidDatetime(team.$createdAt)).toBe(true);

  // The PHP test signs the user up with POST /account (a client route); the same user through users.create.
  const userId = ID.unique();
  await users.create({
    userId,
    email: `${ID.unique()}friend@localhost.test`,
    password: 'password',
    name: 'Friend User',
  });
  expect(status()).toBe(201);

  await teams.createMembership({
    teamId: teamUid,
    userId,
    roles: ['admin', 'editor'],
    url: 'http://localhost:5000/join-us#title',
  });
  expect(status()).toBe(201);

  let memberships = await users.listMemberships({ userId });
  expect(status()).toBe(200);
  expect(memberships.memberships[0]?.teamId).toBe(teamUid);

  await teams.delete({ teamId: teamUid });
  expect(status()).toBe(204);
  // assertEmpty(body): the 204 carried no body at all.
  expect(lastBody(h.trace)).toBeUndefined();

  expect((await failure(teams.get({ teamId: teamUid }))).code).toBe(404);

  memberships = await users.listMemberships({ userId });
  expect(status()).toBe(200);
  expect(memberships.memberships).toEqual([]);
});
