/**
 * Users, teams and memberships in SQLite — what the project needs for organisations (teams) and roles
 * (membership roles). Memberships are added directly (confirmed) as Appwrite does for API-key callers.
 */
import type { Database } from 'better-sqlite3';
import { AppwriteError } from '../errors.ts';
import type { ServerClock } from '../server-context.ts';

/** A user record. */
export interface UserRecord {
  id: string;
  name: string;
  email: string;
  phone: string;
  /** Whether the account is enabled. */
  status: boolean;
  labels: string[];
  createdAt: number;
  updatedAt: number;
}

/** A team record. */
export interface TeamRecord {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
}

/** A membership record. */
export interface MembershipRecord {
  id: string;
  teamId: string;
  userId: string;
  roles: string[];
  createdAt: number;
  updatedAt: number;
  /** Invite and join time (equal: API-key memberships are confirmed at once). */
  joinedAt: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS iam_users (
  id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '',
  status INTEGER NOT NULL DEFAULT 1, labels TEXT NOT NULL DEFAULT '[]', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS iam_users_email ON iam_users (email) WHERE email != '';
CREATE UNIQUE INDEX IF NOT EXISTS iam_users_phone ON iam_users (phone) WHERE phone != '';
CREATE TABLE IF NOT EXISTS iam_teams (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS iam_team_prefs (
  team_id TEXT PRIMARY KEY REFERENCES iam_teams(id) ON DELETE CASCADE, prefs TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS iam_memberships (
  id TEXT PRIMARY KEY,
  team_id TEXT NOT NULL REFERENCES iam_teams(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES iam_users(id) ON DELETE CASCADE,
  roles TEXT NOT NULL DEFAULT '[]', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, joined_at INTEGER NOT NULL,
  UNIQUE (team_id, user_id)
);
`;

type UserRow = {
  id: string;
  name: string;
  email: string;
  phone: string;
  status: number;
  labels: string;
  created_at: number;
  updated_at: number;
};
type MembershipRow = {
  id: string;
  team_id: string;
  user_id: string;
  roles: string;
  created_at: number;
  updated_at: number;
  joined_at: number;
};

/** Synchronous IAM storage; every method throws `AppwriteError` with Appwrite's types. */
export class IamStore {
  constructor(
    private readonly db: Database,
    private readonly clock: ServerClock,
  ) {
    db.exec(SCHEMA);
  }

  /** Creates a user; 409 for a taken id, e-mail or phone. */
  createUser(u: { id: string; name: string; email: string; phone: string }): UserRecord {
    const now = this.clock.now();
    return this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM iam_users WHERE id = ?').get(u.id))
        throw new AppwriteError('user_already_exists');
      if (u.email && this.db.prepare('SELECT 1 FROM iam_users WHERE email = ?').get(u.email))
        throw new AppwriteError('user_email_already_exists');
      if (u.phone && this.db.prepare('SELECT 1 FROM iam_users WHERE phone = ?').get(u.phone))
        throw new AppwriteError('user_phone_already_exists');
      this.db
        .prepare(
          'INSERT INTO iam_users (id, name, email, phone, status, labels, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?)',
        )
        .run(u.id, u.name, u.email, u.phone, '[]', now, now);
      return this.getUser(u.id);
    })();
  }

  /** The user; 404 `user_not_found`. */
  getUser(id: string): UserRecord {
    const r = this.db.prepare('SELECT * FROM iam_users WHERE id = ?').get(id) as UserRow | undefined;
    if (!r) throw new AppwriteError('user_not_found');
    return userFrom(r);
  }

  /** The user with this (lower-cased) e-mail, if any. */
  findUserByEmail(email: string): UserRecord | undefined {
    const r = this.db.prepare('SELECT * FROM iam_users WHERE email = ?').get(email) as UserRow | undefined;
    return r ? userFrom(r) : undefined;
  }

  /** Every user, oldest first. */
  listUsers(): UserRecord[] {
    return (this.db.prepare('SELECT * FROM iam_users ORDER BY created_at, id').all() as UserRow[]).map(
      userFrom,
    );
  }

  /** Updates name, status or labels. */
  updateUser(id: string, patch: { name?: string; status?: boolean; labels?: string[] }): UserRecord {
    const u = this.getUser(id);
    this.db
      .prepare('UPDATE iam_users SET name = ?, status = ?, labels = ?, updated_at = ? WHERE id = ?')
      .run(
        patch.name ?? u.name,
        (patch.status ?? u.status) ? 1 : 0,
        JSON.stringify(patch.labels ?? u.labels),
        this.clock.now(),
        id,
      );
    return this.getUser(id);
  }

  /** Deletes a user and their memberships. */
  deleteUser(id: string): void {
    this.getUser(id);
    this.db.prepare('DELETE FROM iam_users WHERE id = ?').run(id);
  }

  /** Creates a team; 409 `team_already_exists`. */
  createTeam(id: string, name: string): TeamRecord {
    const now = this.clock.now();
    const info = this.db
      .prepare('INSERT OR IGNORE INTO iam_teams (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)')
      .run(id, name, now, now);
    if (info.changes === 0) throw new AppwriteError('team_already_exists');
    return { id, name, createdAt: now, updatedAt: now };
  }

  /** The team; 404 `team_not_found`. */
  getTeam(id: string): TeamRecord {
    const r = this.db.prepare('SELECT * FROM iam_teams WHERE id = ?').get(id) as
      | { id: string; name: string; created_at: number; updated_at: number }
      | undefined;
    if (!r) throw new AppwriteError('team_not_found');
    return { id: r.id, name: r.name, createdAt: r.created_at, updatedAt: r.updated_at };
  }

  /** Every team, oldest first. */
  listTeams(): TeamRecord[] {
    const ids = this.db.prepare('SELECT id FROM iam_teams ORDER BY created_at, id').pluck().all() as string[];
    return ids.map((id) => this.getTeam(id));
  }

  /** Renames a team. */
  renameTeam(id: string, name: string): TeamRecord {
    this.getTeam(id);
    this.db
      .prepare('UPDATE iam_teams SET name = ?, updated_at = ? WHERE id = ?')
      .run(name, this.clock.now(), id);
    return this.getTeam(id);
  }

  /** Deletes a team, its memberships and its preferences. */
  deleteTeam(id: string): void {
    this.getTeam(id);
    this.db.prepare('DELETE FROM iam_team_prefs WHERE team_id = ?').run(id);
    this.db.prepare('DELETE FROM iam_teams WHERE id = ?').run(id);
  }

  /** A team's preferences (`{}` until set); 404 `team_not_found`. */
  getTeamPrefs(id: string): Record<string, unknown> {
    this.getTeam(id);
    const r = this.db.prepare('SELECT prefs FROM iam_team_prefs WHERE team_id = ?').get(id) as
      | { prefs: string }
      | undefined;
    return r ? (JSON.parse(r.prefs) as Record<string, unknown>) : {};
  }

  /** Replaces a team's preferences (as Appwrite's PUT does: the whole object); 404 `team_not_found`. */
  setTeamPrefs(id: string, prefs: Record<string, unknown>): Record<string, unknown> {
    this.getTeam(id);
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO iam_team_prefs (team_id, prefs) VALUES (?, ?) ON CONFLICT(team_id) DO UPDATE SET prefs = excluded.prefs',
        )
        .run(id, JSON.stringify(prefs));
      this.db.prepare('UPDATE iam_teams SET updated_at = ? WHERE id = ?').run(this.clock.now(), id);
    })();
    return this.getTeamPrefs(id);
  }

  /** How many memberships a team has. */
  memberCount(teamId: string): number {
    return this.db
      .prepare('SELECT COUNT(*) FROM iam_memberships WHERE team_id = ?')
      .pluck()
      .get(teamId) as number;
  }

  /** Adds a confirmed membership; 409 `membership_already_confirmed` when the user is already a member. */
  addMembership(m: { id: string; teamId: string; userId: string; roles: string[] }): MembershipRecord {
    return this.db.transaction(() => {
      this.getTeam(m.teamId);
      this.getUser(m.userId);
      if (
        this.db
          .prepare('SELECT 1 FROM iam_memberships WHERE team_id = ? AND user_id = ?')
          .get(m.teamId, m.userId)
      ) {
        throw new AppwriteError('membership_already_confirmed', 'User is already a member of this team.');
      }
      const now = this.clock.now();
      this.db
        .prepare(
          'INSERT INTO iam_memberships (id, team_id, user_id, roles, created_at, updated_at, joined_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(m.id, m.teamId, m.userId, JSON.stringify(m.roles), now, now, now);
      return this.getMembership(m.teamId, m.id);
    })();
  }

  /** 404 `membership_not_found`, or `team_membership_mismatch` when it belongs to another team. */
  getMembership(teamId: string, id: string): MembershipRecord {
    const r = this.db.prepare('SELECT * FROM iam_memberships WHERE id = ?').get(id) as
      | MembershipRow
      | undefined;
    if (!r) throw new AppwriteError('membership_not_found');
    if (r.team_id !== teamId) throw new AppwriteError('team_membership_mismatch');
    return membershipFrom(r);
  }

  /** A team's or a user's memberships, oldest first. */
  listMemberships(filter: { teamId?: string; userId?: string }): MembershipRecord[] {
    const rows = (
      filter.teamId
        ? this.db
            .prepare('SELECT * FROM iam_memberships WHERE team_id = ? ORDER BY created_at, id')
            .all(filter.teamId)
        : this.db
            .prepare('SELECT * FROM iam_memberships WHERE user_id = ? ORDER BY created_at, id')
            .all(filter.userId)
    ) as MembershipRow[];
    return rows.map(membershipFrom);
  }

  /** Replaces a membership's roles. */
  updateRoles(teamId: string, id: string, roles: string[]): MembershipRecord {
    this.getMembership(teamId, id);
    this.db
      .prepare('UPDATE iam_memberships SET roles = ?, updated_at = ? WHERE id = ?')
      .run(JSON.stringify(roles), this.clock.now(), id);
    return this.getMembership(teamId, id);
  }

  /** Deletes a membership. */
  deleteMembership(teamId: string, id: string): void {
    this.getMembership(teamId, id);
    this.db.prepare('DELETE FROM iam_memberships WHERE id = ?').run(id);
  }
}

function userFrom(r: UserRow): UserRecord {
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    phone: r.phone,
    status: r.status === 1,
    labels: JSON.parse(r.labels) as string[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function membershipFrom(r: MembershipRow): MembershipRecord {
  return {
    id: r.id,
    teamId: r.team_id,
    userId: r.user_id,
    roles: JSON.parse(r.roles) as string[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    joinedAt: r.joined_at,
  };
}
