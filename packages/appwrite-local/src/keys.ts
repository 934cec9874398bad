/**
 * API keys: static keys from the options (`apiKey` has every scope) and dynamic keys
 * `ephemeral_<header>.<payload>.<signature>` (base64url JSON, HMAC-SHA256 with a per-server secret) that carry
 * scopes, the function and execution they were issued to, and an expiry — what Appwrite hands to executions.
 *
 * User JWTs (`users.createJWT`, the `X-Appwrite-JWT` header) are plain HS256 JWTs `{userId, sessionId, exp}` as
 * Appwrite issues them, signed with a key derived from the same secret under a different label, so a user JWT
 * is never a valid key and a key is never a valid JWT. The secret is random per in-memory server; with a data
 * directory it is kept in the database ({@link persistentSecret}), so tokens survive a restart as Appwrite's do.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { AppwriteError } from './errors.ts';
import type {
  AuthContext,
  DynamicKeyOptions,
  KeysService,
  Scope,
  ServerClock,
  UserJwtOptions,
} from './server-context.ts';

/** Every scope an Appwrite project key can hold (what a full-scope key means here). */
export const ALL_SCOPES: readonly Scope[] = [
  'sessions.write',
  'users.read',
  'users.write',
  'teams.read',
  'teams.write',
  'databases.read',
  'databases.write',
  'collections.read',
  'collections.write',
  'tables.read',
  'tables.write',
  'attributes.read',
  'attributes.write',
  'columns.read',
  'columns.write',
  'indexes.read',
  'indexes.write',
  'documents.read',
  'documents.write',
  'rows.read',
  'rows.write',
  'files.read',
  'files.write',
  'buckets.read',
  'buckets.write',
  'functions.read',
  'functions.write',
  'sites.read',
  'sites.write',
  'log.read',
  'log.write',
  'execution.read',
  'execution.write',
  'locale.read',
  'avatars.read',
  'health.read',
  'rules.read',
  'rules.write',
  'tokens.read',
  'tokens.write',
];

/**
 * The scopes a signed-in user (`X-Appwrite-JWT`) holds here: the row and execution routes, whose permission
 * checks appwrite-local enforces (Appwrite's `users` role holds more — teams, files, account …; those routes
 * answer 401 `general_unauthorized_scope` to a user here).
 */
export const USER_SCOPES: readonly Scope[] = [
  'rows.read',
  'rows.write',
  'documents.read',
  'documents.write',
  'execution.read',
  'execution.write',
];

/**
 * The scopes a guest (no key, no JWT) holds here: executing functions whose `execute` admits `any`/`guests`,
 * and reading those executions (Appwrite's `guests` role also holds row and file scopes; here a guest on the
 * row routes gets 401 `general_unauthorized_scope`).
 */
export const GUEST_SCOPES: readonly Scope[] = ['execution.read', 'execution.write'];

/**
 * The signing secret of a data directory: created (32 random bytes) on first start and kept in the database, so
 * dynamic keys and user JWTs stay valid across restarts. It is as sensitive as the data directory itself.
 */
export function persistentSecret(db: Database): Buffer {
  db.exec('CREATE TABLE IF NOT EXISTS server_secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL)');
  const read = () =>
    db.prepare('SELECT value FROM server_secrets WHERE name = ?').pluck().get('signing') as
      | Buffer
      | undefined;
  const existing = read();
  if (existing) return existing;
  db.prepare('INSERT OR IGNORE INTO server_secrets (name, value) VALUES (?, ?)').run(
    'signing',
    randomBytes(32),
  );
  return read() as Buffer;
}

/** A configured static key. */
export interface StaticKey {
  secret: string;
  scopes: Scope[];
}

const DYNAMIC_PREFIX = 'ephemeral_';

interface DynamicPayload {
  /** Project id. */
  pid: string;
  fid: string;
  eid: string;
  scopes: Scope[];
  /** Expiry, epoch seconds. */
  exp: number;
}

/** Claims of a user JWT. */
interface UserJwtPayload {
  userId: string;
  sessionId: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

/** Longest accepted `X-Appwrite-JWT` value, characters (a real one is ~200). */
const MAX_JWT_CHARS = 4096;

/** Creates the keys service for one project. `secret` signs dynamic keys (random per server by default). */
export function createKeysService(options: {
  projectId: string;
  staticKeys: StaticKey[];
  clock: ServerClock;
  secret?: Buffer | undefined;
}): KeysService {
  const secret = options.secret ?? randomBytes(32);
  const statics = new Map<string, AuthContext>();
  for (const k of options.staticKeys) statics.set(k.secret, { kind: 'static', scopes: new Set(k.scopes) });

  const sign = (data: string) => createHmac('sha256', secret).update(data).digest('base64url');
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const jwtSecret = createHmac('sha256', secret).update('appwrite-local user jwt').digest();
  const signJwt = (data: string) => createHmac('sha256', jwtSecret).update(data).digest('base64url');
  const jwtInvalid = (why: string) => new AppwriteError('user_jwt_invalid', `Failed to verify JWT. ${why}`);

  return {
    issueDynamicKey({ functionId, executionId, scopes, ttlSeconds }: DynamicKeyOptions): string {
      const payload: DynamicPayload = {
        pid: options.projectId,
        fid: functionId,
        eid: executionId,
        scopes: [...scopes],
        exp: Math.floor(options.clock.now() / 1000) + Math.max(1, Math.ceil(ttlSeconds)),
      };
      const body = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return `${DYNAMIC_PREFIX}${body}.${sign(body)}`;
    },

    verify(key: string): AuthContext | null {
      const found = statics.get(key);
      if (found) return found;
      if (!key.startsWith(DYNAMIC_PREFIX)) return null;
      const token = key.slice(DYNAMIC_PREFIX.length);
      const parts = token.split('.');
      if (parts.length !== 3) return null;
      const body = `${parts[0]}.${parts[1]}`;
      const expected = Buffer.from(sign(body));
      const given = Buffer.from(parts[2] as string);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
      let payload: DynamicPayload;
      try {
        payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as DynamicPayload;
      } catch {
        return null;
      }
      if (payload.pid !== options.projectId || !Array.isArray(payload.scopes)) return null;
      if (payload.exp * 1000 <= options.clock.now()) throw new AppwriteError('project_key_expired');
      return {
        kind: 'dynamic',
        scopes: new Set(payload.scopes),
        functionId: payload.fid,
        executionId: payload.eid,
      };
    },

    issueUserJwt({ userId, sessionId, durationSeconds }: UserJwtOptions): string {
      const payload: UserJwtPayload = {
        userId,
        sessionId,
        exp: Math.floor(options.clock.now() / 1000) + Math.max(0, Math.floor(durationSeconds)),
      };
      const body = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return `${body}.${signJwt(body)}`;
    },

    verifyUserJwt(jwt: string): { userId: string; sessionId: string } {
      if (jwt.length > MAX_JWT_CHARS) throw jwtInvalid('Invalid token');
      const parts = jwt.split('.');
      if (parts.length !== 3) throw jwtInvalid('Invalid token');
      const body = `${parts[0]}.${parts[1]}`;
      const expected = Buffer.from(signJwt(body));
      const given = Buffer.from(parts[2] as string);
      if (expected.length !== given.length || !timingSafeEqual(expected, given))
        throw jwtInvalid('Invalid signature');
      let payload: Partial<UserJwtPayload>;
      try {
        payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as UserJwtPayload;
      } catch {
        throw jwtInvalid('Invalid token');
      }
      if (
        typeof payload !== 'object' ||
        payload === null ||
        typeof payload.userId !== 'string' ||
        typeof payload.exp !== 'number'
      ) {
        throw jwtInvalid('Invalid token');
      }
      if (payload.exp * 1000 <= options.clock.now()) throw jwtInvalid('Expired token');
      return {
        userId: payload.userId,
        sessionId: typeof payload.sessionId === 'string' ? payload.sessionId : '',
      };
    },
  };
}
