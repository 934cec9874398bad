import type { OrgDirectory } from '../../ports/org-directory.ts';

/**
 * The memory OrgDirectory: organizations and their members' roles held in a map, for tests and local runs.
 * `stats.calls` counts lookups.
 */
export class MemoryOrgDirectory implements OrgDirectory {
  readonly stats = { calls: 0 };
  private readonly members = new Map<string, Map<string, string[]>>();

  /** Seeds organizations: `{ orgId: { userId: roles } }`. */
  constructor(seed: Record<string, Record<string, readonly string[]>> = {}) {
    for (const [orgId, users] of Object.entries(seed)) {
      for (const [userId, roles] of Object.entries(users)) this.addMember(orgId, userId, roles);
    }
  }

  /** Adds (or replaces) a confirmed membership. */
  addMember(orgId: string, userId: string, roles: readonly string[] = []): void {
    let org = this.members.get(orgId);
    if (!org) {
      org = new Map();
      this.members.set(orgId, org);
    }
    org.set(userId, [...roles]);
  }

  /** Removes a membership; returns whether one existed. */
  removeMember(orgId: string, userId: string): boolean {
    return this.members.get(orgId)?.delete(userId) ?? false;
  }

  async rolesOf(orgId: string, userId: string): Promise<string[] | null> {
    this.stats.calls++;
    const roles = this.members.get(orgId)?.get(userId);
    return roles ? [...roles] : null;
  }
}
