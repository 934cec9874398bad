/**
 * API keys: static keys from the options (`apiKey` has every scope) and dynamic keys
 * `ephemeral_<header>.<payload>.<signature>` (base64url JSON, HMAC-SHA256 with a per-server secret) that carry
 * scopes, the function and execution they were issued to, and an expiry — what Appwrite hands to executions.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppwriteError } from './errors.ts';
import type { AuthContext, DynamicKeyOptions, KeysService, Scope, ServerClock } from './server-context.ts';

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

/** Creates the keys service for one project. `secret` signs dynamic keys (random per server by default). */
export function createKeysService(options: {
  projectId: string;
  staticKeys: StaticKey[];
  clock: ServerClock;
  secret?: Buffer;
}): KeysService {
  const secret = options.secret ?? randomBytes(32);
  const statics = new Map<string, AuthContext>();
  for (const k of options.staticKeys) statics.set(k.secret, { kind: 'static', scopes: new Set(k.scopes) });

  const sign = (data: string) => createHmac('sha256', secret).update(data).digest('base64url');
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

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
  };
}
