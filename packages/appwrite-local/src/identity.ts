/**
 * The identity registry: how request authentication turns the user id of a verified `X-Appwrite-JWT` into a
 * user with a status and roles. The users/teams module installs the resolver; without one every JWT user is
 * unknown (the request then runs as a guest, as Appwrite treats a JWT whose user is gone).
 */
import type { IdentityRegistry, UserIdentity } from './server-context.ts';

/** Creates an empty registry. */
export function createIdentityRegistry(): IdentityRegistry {
  let resolver: ((userId: string) => UserIdentity | null) | undefined;
  return {
    setResolver(r) {
      resolver = r;
    },
    resolve(userId) {
      return resolver ? resolver(userId) : null;
    },
  };
}

/**
 * The roles Appwrite gives a signed-in user (Auth::getRoles): `any`, `users`, `users/<verified|unverified>`,
 * `user:<id>`, `user:<id>/<verified|unverified>`, and per confirmed membership `team:<t>`, `team:<t>/<role>`,
 * `member:<membershipId>`; `label:<l>` per label. appwrite-local users are never verified.
 */
export function userRoles(
  userId: string,
  memberships: readonly { id: string; teamId: string; roles: readonly string[] }[],
  labels: readonly string[],
  verified = false,
): string[] {
  const v = verified ? 'verified' : 'unverified';
  const roles = ['any', 'users', `users/${v}`, `user:${userId}`, `user:${userId}/${v}`];
  for (const m of memberships) {
    roles.push(`team:${m.teamId}`, `member:${m.id}`);
    for (const r of m.roles) roles.push(`team:${m.teamId}/${r}`);
  }
  for (const l of labels) roles.push(`label:${l}`);
  return roles;
}

/** The roles of a guest (no key, no JWT). */
export const GUEST_ROLES: readonly string[] = ['any', 'guests'];
