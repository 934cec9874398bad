/** appwrite-local users, teams and memberships through node-appwrite 27 (organisations = teams, roles). */
import { Query } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAppwriteError, type LocalHarness, startHarness } from './appwrite-local-helpers.ts';
import { checkAgainstSpec } from './appwrite-local-openapi.ts';

let h: LocalHarness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.server.stop();
});

describe('users', () => {
  it('creates, gets, lists, updates and deletes users', async () => {
    const u = await h.users.create({ userId: 'u1', email: 'Ann@Example.com', name: 'Ann' });
    expect(u).toMatchObject({ $id: 'u1', email: 'ann@example.com', name: 'Ann', status: true, labels: [] });
    await h.users.create({ userId: 'u2', name: 'Bob' });
    await expectAppwriteError(h.users.create({ userId: 'u1' }), 409, 'user_already_exists');
    await expectAppwriteError(
      h.users.create({ userId: 'u3', email: 'ann@example.com' }),
      409,
      'user_email_already_exists',
    );
    await expectAppwriteError(
      h.users.create({ userId: 'u3', email: 'not-an-email' }),
      400,
      'general_argument_invalid',
    );
    expect(await h.users.get({ userId: 'u2' })).toMatchObject({ name: 'Bob' });
    expect((await h.users.list({ queries: [Query.equal('name', ['Ann'])] })).users.map((x) => x.$id)).toEqual(
      ['u1'],
    );
    expect((await h.users.list({ search: 'bob' })).total).toBe(1);
    expect((await h.users.updateStatus({ userId: 'u2', status: false })).status).toBe(false);
    expect((await h.users.updateName({ userId: 'u2', name: 'Robert' })).name).toBe('Robert');
    expect((await h.users.updateLabels({ userId: 'u2', labels: ['admin'] })).labels).toEqual(['admin']);
    await h.users.delete({ userId: 'u2' });
    await expectAppwriteError(h.users.get({ userId: 'u2' }), 404, 'user_not_found');
  });
});

describe('teams and memberships', () => {
  it('creates an organisation team and manages memberships with roles', async () => {
    const team = await h.teams.create({ teamId: 'org1', name: 'Org One' });
    expect(team).toMatchObject({ $id: 'org1', name: 'Org One', total: 0 });
    await expectAppwriteError(h.teams.create({ teamId: 'org1', name: 'again' }), 409, 'team_already_exists');
    await h.users.create({ userId: 'm1', email: 'm1@example.com', name: 'Mia' });

    const m = await h.teams.createMembership({ teamId: 'org1', roles: ['admin'], userId: 'm1' });
    expect(m).toMatchObject({
      teamId: 'org1',
      userId: 'm1',
      userName: 'Mia',
      userEmail: 'm1@example.com',
      teamName: 'Org One',
      roles: ['admin'],
      confirm: true,
    });
    await expectAppwriteError(
      h.teams.createMembership({ teamId: 'org1', roles: [], userId: 'm1' }),
      409,
      'membership_already_confirmed',
    );
    await expectAppwriteError(
      h.teams.createMembership({ teamId: 'org1', roles: [], userId: 'ghost' }),
      404,
      'user_not_found',
    );
    await expectAppwriteError(
      h.teams.createMembership({ teamId: 'nope', roles: [], userId: 'm1' }),
      404,
      'team_not_found',
    );

    // An e-mail invite for an unknown address creates the user.
    const byEmail = await h.teams.createMembership({
      teamId: 'org1',
      roles: ['member'],
      email: 'new@example.com',
      name: 'Neo',
    });
    expect((await h.users.get({ userId: byEmail.userId })).email).toBe('new@example.com');

    expect((await h.teams.get({ teamId: 'org1' })).total).toBe(2);
    const list = await h.teams.listMemberships({ teamId: 'org1', queries: [Query.equal('userId', ['m1'])] });
    expect(list.memberships.map((x) => x.roles)).toEqual([['admin']]);
    expect((await h.users.listMemberships({ userId: 'm1' })).memberships.map((x) => x.teamId)).toEqual([
      'org1',
    ]);
    expect(await h.teams.getMembership({ teamId: 'org1', membershipId: m.$id })).toMatchObject({
      $id: m.$id,
    });
    const updated = await h.teams.updateMembership({
      teamId: 'org1',
      membershipId: m.$id,
      roles: ['owner', 'admin'],
    });
    expect(updated.roles).toEqual(['owner', 'admin']);

    await h.teams.create({ teamId: 'org2', name: 'Org Two' });
    await expectAppwriteError(
      h.teams.getMembership({ teamId: 'org2', membershipId: m.$id }),
      404,
      'team_membership_mismatch',
    );
    await h.teams.deleteMembership({ teamId: 'org1', membershipId: m.$id });
    await expectAppwriteError(
      h.teams.getMembership({ teamId: 'org1', membershipId: m.$id }),
      404,
      'membership_not_found',
    );

    expect((await h.teams.updateName({ teamId: 'org2', name: 'Org 2' })).name).toBe('Org 2');
    expect((await h.teams.list({})).teams.map((t) => t.$id)).toEqual(['org1', 'org2']);
    await h.teams.delete({ teamId: 'org1' });
    await expectAppwriteError(h.teams.get({ teamId: 'org1' }), 404, 'team_not_found');
    expect((await h.users.listMemberships({ userId: byEmail.userId })).total).toBe(0);
  });

  it('deleting a user removes their memberships', async () => {
    await h.users.create({ userId: 'gone' });
    await h.teams.createMembership({ teamId: 'org2', roles: [], userId: 'gone' });
    expect((await h.teams.get({ teamId: 'org2' })).total).toBe(1);
    await h.users.delete({ userId: 'gone' });
    expect((await h.teams.get({ teamId: 'org2' })).total).toBe(0);
  });

  it('answered with bodies that match the OpenAPI schemas', () => {
    expect(checkAgainstSpec(h.trace).problems).toEqual([]);
  });
});
