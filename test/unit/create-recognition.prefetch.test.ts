/**
 * `POST /recognitions` starts the reads it needs (receiver's membership, the org's quota limits) while the kit
 * is still authorizing the caller, and answers nothing before that authorization: an outsider still gets 403,
 * whatever the body, and nothing is written.
 */
import createRecognition from 'fn-create-recognition/src/main.ts';
import type { OrgDirectory } from 'resilience-core';
import { MemoryOrgDirectory } from 'resilience-core/adapters/memory';
import { forgetKnownAlerts } from 'resilience-core/quota';
import { invoke } from 'resilience-core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { quotaFixture } from '../quota-helpers.ts';

const ORG = 'org-acme';

/** An org directory whose lookup of `held` waits until released; records every lookup in order. */
function gatedDirectory(members: MemoryOrgDirectory, held: string) {
  const calls: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const orgs: OrgDirectory = {
    async rolesOf(orgId, userId) {
      calls.push(userId);
      if (userId === held) await gate;
      return members.rolesOf(orgId, userId);
    },
  };
  return { orgs, calls, release };
}

beforeEach(() => forgetKnownAlerts());

describe('POST /recognitions reads side by side with authorization', () => {
  it("looks up the receiver and the org's limits while the caller's membership is still pending", async () => {
    const f = quotaFixture();
    const members = new MemoryOrgDirectory({ [ORG]: { bob: [], carol: [] } });
    const gated = gatedDirectory(members, 'bob');
    const fn = createRecognition.with({ store: f.store, orgs: gated.orgs, clock: f.clock, env: {} });
    const readsBefore = f.memory!.stats.byMethod.get ?? 0;
    const pending = invoke(fn, {
      method: 'POST',
      path: '/recognitions',
      body: { orgId: ORG, receiverId: 'carol', message: 'thanks' },
      headers: { 'x-appwrite-user-id': 'bob' },
    });
    // Let every started read get going; bob's own lookup (the kit's auth) is held.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(gated.calls).toEqual(['bob', 'carol']);
    // The quota settings row was read (limits) before the caller was authorized.
    expect(f.memory!.stats.byMethod.get ?? 0).toBeGreaterThan(readsBefore);
    expect(f.memory!.stats.byMethod.create ?? 0).toBe(0);
    gated.release();
    const out = await pending;
    expect(out.status, JSON.stringify(out.body)).toBe(201);
    // (That the handler then finds them cached — the Teams directory memoizes — is counted request by request in
    // create-recognition.round-trips.local.test.ts.)
  });

  it('an outsider gets 403 (never the schema, never a write), even with a bad body', async () => {
    const f = quotaFixture();
    const orgs = new MemoryOrgDirectory({ [ORG]: { bob: [], carol: [] } });
    const fn = createRecognition.with({ store: f.store, orgs, clock: f.clock, env: {} });
    const post = (body: unknown) =>
      invoke(fn, { method: 'POST', path: '/recognitions', body, headers: { 'x-appwrite-user-id': 'eve' } });
    const good = await post({ orgId: ORG, receiverId: 'carol', message: 'hi' });
    const bad = await post({ orgId: ORG, receiverId: 42, points: -1 });
    expect([good.status, bad.status]).toEqual([403, 403]);
    expect(JSON.stringify(bad.body)).not.toContain('receiverId');
    const writes = ['create', 'update', 'upsert', 'delete', 'increment', 'transaction'].map(
      (m) => f.memory!.stats.byMethod[m] ?? 0,
    );
    expect(writes).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
