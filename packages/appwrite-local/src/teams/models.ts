/** API models of users, teams and memberships (Appwrite 1.9 shapes). */
import { formatDate } from '../wire.ts';
import type { IamStore, MembershipRecord, TeamRecord, UserRecord } from './store.ts';

/** The user model (no password hash is ever returned). */
export function userModel(u: UserRecord): Record<string, unknown> {
  return {
    $id: u.id,
    $createdAt: formatDate(u.createdAt),
    $updatedAt: formatDate(u.updatedAt),
    name: u.name,
    registration: formatDate(u.createdAt),
    status: u.status,
    labels: u.labels,
    passwordUpdate: '',
    email: u.email,
    phone: u.phone,
    emailVerification: false,
    phoneVerification: false,
    mfa: false,
    prefs: {},
    targets: [],
    accessedAt: '',
  };
}

/** The team model; `total` is the number of memberships. */
export function teamModel(t: TeamRecord, store: IamStore): Record<string, unknown> {
  return {
    $id: t.id,
    $createdAt: formatDate(t.createdAt),
    $updatedAt: formatDate(t.updatedAt),
    name: t.name,
    total: store.memberCount(t.id),
    prefs: store.getTeamPrefs(t.id),
  };
}

/** The membership model. */
export function membershipModel(m: MembershipRecord, store: IamStore): Record<string, unknown> {
  const user = store.getUser(m.userId);
  const team = store.getTeam(m.teamId);
  return {
    $id: m.id,
    $createdAt: formatDate(m.createdAt),
    $updatedAt: formatDate(m.updatedAt),
    userId: m.userId,
    userName: user.name,
    userEmail: user.email,
    teamId: m.teamId,
    teamName: team.name,
    invited: formatDate(m.joinedAt),
    joined: formatDate(m.joinedAt),
    confirm: true,
    mfa: false,
    roles: m.roles,
  };
}
