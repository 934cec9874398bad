/**
 * Users, teams and memberships routes — organisations are teams, roles are membership roles. With an API key
 * a membership is created confirmed (no invitation e-mail), as Appwrite does for server callers.
 *
 * Also user JWTs: `POST /users/{userId}/jwts` (`users.createJWT`) and the identity resolver the HTTP front
 * uses for `X-Appwrite-JWT` requests (status and roles from the user, their memberships and labels).
 */
import { invalidArgument } from '../errors.ts';
import { userRoles } from '../identity.ts';
import { attr, collectionRoutes, listResponse } from '../list.ts';
import type { ApiRequest, ServerModule } from '../server-context.ts';
import { optionalStringArray, requireString, resolveId, uniqueId } from '../wire.ts';
import { membershipModel, teamModel, userModel } from './models.ts';
import { IamStore } from './store.ts';

const USER_ATTRIBUTES = {
  $id: attr.string,
  name: attr.string,
  email: attr.string,
  phone: attr.string,
  status: attr.boolean,
  labels: attr.strings,
  $createdAt: attr.datetime,
  $updatedAt: attr.datetime,
};
const TEAM_ATTRIBUTES = {
  $id: attr.string,
  name: attr.string,
  total: attr.integer,
  $createdAt: attr.datetime,
  $updatedAt: attr.datetime,
};
const MEMBERSHIP_ATTRIBUTES = {
  $id: attr.string,
  userId: attr.string,
  teamId: attr.string,
  userName: attr.string,
  userEmail: attr.string,
  roles: attr.strings,
  confirm: attr.boolean,
  $createdAt: attr.datetime,
};
/** Default lifetime of a user JWT, seconds (Appwrite's). */
export const JWT_DEFAULT_SECONDS = 900;
/** Longest lifetime of a user JWT, seconds (Appwrite's). */
export const JWT_MAX_SECONDS = 3600;
const SESSION_ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$/;

/** Longest preferences object, JSON characters (Appwrite's 65,535). */
const MAX_PREFS_CHARS = 65_535;
/** Hosts a membership `url` may point at: appwrite-local has no platforms, only the local machine. */
const URL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

function prefsParam(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidArgument('Invalid `prefs` param: Value must be a valid object.');
  if (JSON.stringify(value).length > MAX_PREFS_CHARS)
    throw invalidArgument(
      `Invalid \`prefs\` param: Value must be a valid object no longer than ${MAX_PREFS_CHARS} chars.`,
    );
  return value as Record<string, unknown>;
}

/** The optional invitation `url`: it must point at an allowed host (Appwrite checks it against platforms). */
function checkUrl(value: unknown): void {
  if (value === undefined || value === null || value === '') return;
  let host = '';
  try {
    host = new URL(String(value)).hostname;
  } catch {
    host = '';
  }
  if (!URL_HOSTS.includes(host))
    throw invalidArgument(`Invalid \`url\` param: URL host must be one of: ${URL_HOSTS.join(', ')}`);
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ROLE_RE = /^[a-zA-Z0-9._-]{1,32}$/;

function rolesParam(value: unknown): string[] {
  const roles = optionalStringArray(value, 'roles');
  if (!roles) throw invalidArgument('Param "roles" is not optional.');
  for (const r of roles) {
    if (!ROLE_RE.test(r))
      throw invalidArgument(
        `Invalid \`roles\` param: Role "${r}" must contain at most 32 chars a-z, A-Z, 0-9, period, hyphen, underscore`,
      );
  }
  return roles;
}

function optionalEmail(body: Record<string, unknown>): string {
  const email = body.email;
  if (email === undefined || email === null || email === '') return '';
  if (typeof email !== 'string' || !EMAIL_RE.test(email))
    throw invalidArgument('Invalid `email` param: Value must be a valid email address');
  return email.toLowerCase();
}

function optionalName(body: Record<string, unknown>): string {
  const name = body.name ?? '';
  if (typeof name !== 'string' || name.length > 128)
    throw invalidArgument(
      'Invalid `name` param: Value must be a valid string and at least 1 chars and no longer than 128 chars',
    );
  return name;
}

/** The users and teams module. */
export const teamsModule: ServerModule = {
  name: 'teams',
  install(ctx) {
    const store = new IamStore(ctx.db, ctx.clock);
    const r = ctx.router;
    const p = (req: ApiRequest, k: string) => req.params[k] as string;
    /** The route's `teamId`, once the team is known to exist (404 `team_not_found` otherwise). */
    const teamOf = (req: ApiRequest) => {
      const teamId = p(req, 'teamId');
      store.getTeam(teamId);
      return teamId;
    };
    /** The memberships of a user or a team as a list response. */
    const membershipList = (req: ApiRequest, filter: { userId: string } | { teamId: string }) =>
      listResponse(
        req,
        'memberships',
        store.listMemberships(filter).map((m) => membershipModel(m, store)),
        MEMBERSHIP_ATTRIBUTES,
      );

    ctx.identity.setResolver((userId) => {
      let user: ReturnType<IamStore['getUser']>;
      try {
        user = store.getUser(userId);
      } catch {
        return null;
      }
      return {
        id: user.id,
        status: user.status,
        roles: userRoles(user.id, store.listMemberships({ userId: user.id }), user.labels),
      };
    });

    // --- users -----------------------------------------------------------------------------------------------
    r.add({
      method: 'POST',
      path: '/users',
      scope: 'users.write',
      handler: (req) => {
        const id = resolveId(req.body.userId, 'userId');
        const phone = req.body.phone ?? '';
        if (typeof phone !== 'string' || (phone !== '' && !/^\+[1-9]\d{6,14}$/.test(phone)))
          throw invalidArgument(
            "Invalid `phone` param: Phone number must start with a '+' can have a maximum of fifteen digits.",
          );
        const user = store.createUser({
          id,
          name: optionalName(req.body),
          email: optionalEmail(req.body),
          phone,
        });
        return { status: 201, json: userModel(user) };
      },
    });
    collectionRoutes(r, {
      path: '/users',
      idParam: 'userId',
      key: 'users',
      read: 'users.read',
      write: 'users.write',
      attributes: USER_ATTRIBUTES,
      list: () => store.listUsers(),
      get: (id) => store.getUser(id),
      remove: (id) => store.deleteUser(id),
      render: userModel,
    });
    r.add({
      method: 'PATCH',
      path: '/users/:userId/status',
      scope: 'users.write',
      handler: (req) => {
        if (typeof req.body.status !== 'boolean') throw invalidArgument('Param "status" is not optional.');
        return {
          status: 200,
          json: userModel(store.updateUser(p(req, 'userId'), { status: req.body.status })),
        };
      },
    });
    r.add({
      method: 'PATCH',
      path: '/users/:userId/name',
      scope: 'users.write',
      handler: (req) => ({
        status: 200,
        json: userModel(store.updateUser(p(req, 'userId'), { name: requireString(req.body, 'name') })),
      }),
    });
    r.add({
      method: 'PUT',
      path: '/users/:userId/labels',
      scope: 'users.write',
      handler: (req) => {
        const labels = optionalStringArray(req.body.labels, 'labels');
        if (!labels) throw invalidArgument('Param "labels" is not optional.');
        return { status: 200, json: userModel(store.updateUser(p(req, 'userId'), { labels })) };
      },
    });
    r.add({
      method: 'POST',
      path: '/users/:userId/jwts',
      scope: 'users.write',
      handler: (req) => {
        const user = store.getUser(p(req, 'userId'));
        const sessionId = req.body.sessionId ?? '';
        if (typeof sessionId !== 'string' || (sessionId !== '' && !SESSION_ID_RE.test(sessionId)))
          throw invalidArgument(
            "Invalid `sessionId` param: UID must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char",
          );
        const duration = req.body.duration ?? JWT_DEFAULT_SECONDS;
        if (
          typeof duration !== 'number' ||
          !Number.isInteger(duration) ||
          duration < 0 ||
          duration > JWT_MAX_SECONDS
        )
          throw invalidArgument(
            `Invalid \`duration\` param: Value must be a valid range between 0 and ${JWT_MAX_SECONDS}`,
          );
        // appwrite-local has no sessions: Appwrite signs `sessionId: ''` too when the user has none (or the
        // named one is not theirs), and such a JWT stays valid until it expires.
        const jwt = ctx.keys.issueUserJwt({ userId: user.id, sessionId: '', durationSeconds: duration });
        return { status: 201, json: { jwt } };
      },
    });
    r.add({
      method: 'GET',
      path: '/users/:userId/memberships',
      scope: 'users.read',
      handler: (req) => {
        const userId = p(req, 'userId');
        store.getUser(userId);
        return membershipList(req, { userId });
      },
    });

    // --- teams -----------------------------------------------------------------------------------------------
    r.add({
      method: 'POST',
      path: '/teams',
      scope: 'teams.write',
      handler: (req) => {
        const id = resolveId(req.body.teamId, 'teamId');
        const name = requireString(req.body, 'name');
        return { status: 201, json: teamModel(store.createTeam(id, name), store) };
      },
    });
    collectionRoutes(r, {
      path: '/teams',
      idParam: 'teamId',
      key: 'teams',
      read: 'teams.read',
      write: 'teams.write',
      attributes: TEAM_ATTRIBUTES,
      list: () => store.listTeams(),
      get: (id) => store.getTeam(id),
      remove: (id) => store.deleteTeam(id),
      render: (t) => teamModel(t, store),
    });
    r.add({
      method: 'PUT',
      path: '/teams/:teamId',
      scope: 'teams.write',
      handler: (req) => ({
        status: 200,
        json: teamModel(store.renameTeam(p(req, 'teamId'), requireString(req.body, 'name')), store),
      }),
    });

    r.add({
      method: 'GET',
      path: '/teams/:teamId/prefs',
      scope: 'teams.read',
      handler: (req) => ({ status: 200, json: store.getTeamPrefs(p(req, 'teamId')) }),
    });
    r.add({
      method: 'PUT',
      path: '/teams/:teamId/prefs',
      scope: 'teams.write',
      handler: (req) => ({
        status: 200,
        json: store.setTeamPrefs(p(req, 'teamId'), prefsParam(req.body.prefs)),
      }),
    });

    // --- memberships -----------------------------------------------------------------------------------------
    r.add({
      method: 'POST',
      path: '/teams/:teamId/memberships',
      scope: 'teams.write',
      handler: (req) => {
        const teamId = teamOf(req);
        const roles = rolesParam(req.body.roles);
        const email = optionalEmail(req.body);
        checkUrl(req.body.url);
        let userId = req.body.userId;
        if (userId === undefined || userId === null || userId === '') {
          if (!email) throw invalidArgument('At least one of userId, email, or phone is required');
          // Appwrite creates the user when an e-mail invite names an unknown address.
          userId =
            store.findUserByEmail(email)?.id ??
            store.createUser({ id: uniqueId(), name: optionalName(req.body), email, phone: '' }).id;
        } else {
          userId = resolveId(userId, 'userId');
        }
        const m = store.addMembership({ id: uniqueId(), teamId, userId: userId as string, roles });
        return { status: 201, json: membershipModel(m, store) };
      },
    });
    r.add({
      method: 'GET',
      path: '/teams/:teamId/memberships',
      scope: 'teams.read',
      handler: (req) => membershipList(req, { teamId: teamOf(req) }),
    });
    r.add({
      method: 'GET',
      path: '/teams/:teamId/memberships/:membershipId',
      scope: 'teams.read',
      handler: (req) => ({
        status: 200,
        json: membershipModel(store.getMembership(teamOf(req), p(req, 'membershipId')), store),
      }),
    });
    r.add({
      method: 'PATCH',
      path: '/teams/:teamId/memberships/:membershipId',
      scope: 'teams.write',
      handler: (req) => {
        const m = store.updateRoles(teamOf(req), p(req, 'membershipId'), rolesParam(req.body.roles));
        return { status: 200, json: membershipModel(m, store) };
      },
    });
    r.add({
      method: 'DELETE',
      path: '/teams/:teamId/memberships/:membershipId',
      scope: 'teams.write',
      handler: (req) => {
        store.deleteMembership(teamOf(req), p(req, 'membershipId'));
        return { status: 204 };
      },
    });
  },
};
