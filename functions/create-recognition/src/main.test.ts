import { MemoryOrgDirectory, MemoryTableStore } from 'resilience-core/adapters/memory';
import { invoke, ManualClock } from 'resilience-core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import handler from './main.ts';

const env = { APPWRITE_FUNCTION_DEPLOYMENT: 'dep-1' };
let store: MemoryTableStore;
let fn: typeof handler;

beforeEach(() => {
  store = new MemoryTableStore({ clock: new ManualClock() });
  const orgs = new MemoryOrgDirectory({
    acme: { alice: ['owner'], bob: [], carol: [] },
    globex: { dave: [], erin: [] },
  });
  fn = handler.with({ env, store, orgs });
});

const give = (userId: string | null, body: unknown) =>
  invoke(fn, {
    method: 'POST',
    path: '/recognitions',
    body,
    headers: userId ? { 'x-appwrite-user-id': userId } : {},
  });

async function recognitionCount(): Promise<number> {
  return (await store.list('recognitions')).rows.length;
}

describe('POST /recognitions', () => {
  it('stores a recognition from a member to a member: 201 with the row', async () => {
    const out = await give('alice', {
      orgId: 'acme',
      receiverId: 'bob',
      message: ' Great demo! ',
      points: 5,
      tags: ['demo', 'demo'],
    });
    expect(out.status).toBe(201);
    expect(out.body).toMatchObject({
      orgId: 'acme',
      giverId: 'alice',
      receiverId: 'bob',
      message: 'Great demo!',
      points: 5,
      tags: ['demo'],
      $id: expect.any(String),
      $createdAt: expect.any(String),
    });
    expect(await recognitionCount()).toBe(1);
  });

  it('defaults points to 0 and tags to []', async () => {
    const out = await give('bob', { orgId: 'acme', receiverId: 'carol', message: 'thanks' });
    expect(out.body).toMatchObject({ points: 0, tags: [] });
  });

  it('refuses a giver who is not a member of the org: 403, nothing stored', async () => {
    const out = await give('dave', { orgId: 'acme', receiverId: 'bob', message: 'hi' });
    expect(out.status).toBe(403);
    expect(await recognitionCount()).toBe(0);
  });

  it('refuses a receiver who is not a member of the org: 403, nothing stored', async () => {
    const out = await give('alice', { orgId: 'acme', receiverId: 'dave', message: 'hi' });
    expect(out.status).toBe(403);
    expect(out.body).toMatchObject({
      error: { code: 'FORBIDDEN', message: expect.stringContaining('receiver') },
    });
    expect(await recognitionCount()).toBe(0);
  });

  it('refuses recognizing yourself: 400', async () => {
    const out = await give('alice', { orgId: 'acme', receiverId: 'alice', message: 'me' });
    expect(out.status).toBe(400);
    expect(out.body).toMatchObject({ error: { issues: [{ path: 'receiverId' }] } });
    expect(await recognitionCount()).toBe(0);
  });

  it.each([
    [{ orgId: 'acme', receiverId: 'bob' }, 'message'],
    [{ orgId: 'acme', receiverId: 'bob', message: 'x'.repeat(1001) }, 'message'],
    [{ orgId: 'acme', receiverId: 'bob', message: 'x', points: 1001 }, 'points'],
    [{ orgId: 'acme', receiverId: 'bob', message: 'x', points: 1.5 }, 'points'],
    [
      { orgId: 'acme', receiverId: 'bob', message: 'x', tags: Array.from({ length: 11 }, (_, i) => `t${i}`) },
      'tags',
    ],
    [{ receiverId: 'bob', message: 'x' }, 'orgId'],
  ])('answers an invalid body %j with 400 naming %s', async (body, field) => {
    const out = await give('alice', body);
    expect(out.status).toBe(400);
    const issues = (out.body as { error: { issues: { path: string }[] } }).error.issues;
    expect(issues.map((i) => i.path.split('.')[0])).toContain(field);
    expect(await recognitionCount()).toBe(0);
  });

  it('refuses giving as someone else', async () => {
    const out = await give('alice', { orgId: 'acme', receiverId: 'bob', message: 'x', giverId: 'carol' });
    expect(out.status).toBe(403);
    expect(await recognitionCount()).toBe(0);
  });

  it('lets a server call (API key) give on behalf of a member, and requires giverId', async () => {
    expect((await give(null, { orgId: 'acme', receiverId: 'bob', message: 'x' })).status).toBe(400);
    expect(
      (await give(null, { orgId: 'acme', receiverId: 'bob', message: 'x', giverId: 'dave' })).status,
    ).toBe(403);
    const ok = await give(null, { orgId: 'acme', receiverId: 'bob', message: 'x', giverId: 'carol' });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ giverId: 'carol' });
  });

  it('makes a repeated requestId safe, even concurrently: one row, first 201, the rest 200 with it', async () => {
    const body = { orgId: 'acme', receiverId: 'bob', message: 'once', requestId: 'req-1' };
    const results = await Promise.all(Array.from({ length: 8 }, () => give('alice', body)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(7);
    expect(new Set(results.map((r) => (r.body as { $id: string }).$id)).size).toBe(1);
    expect(await recognitionCount()).toBe(1);
  });
});

describe('GET /orgs/:orgId/recognitions', () => {
  it('lists an org newest first with cursor paging, for members only', async () => {
    for (const m of ['a', 'b', 'c']) await give('alice', { orgId: 'acme', receiverId: 'bob', message: m });
    // A row of another org, newest of all: a list that ignored the org would show it first.
    const other = await give('dave', { orgId: 'globex', receiverId: 'erin', message: 'other org' });
    expect(other.status).toBe(201);
    const first = await invoke(fn, {
      path: '/orgs/acme/recognitions?limit=2',
      headers: { 'x-appwrite-user-id': 'carol' },
    });
    expect(first.status).toBe(200);
    const page = first.body as { rows: { message: string }[]; nextCursor: string };
    expect(page.rows.map((r) => r.message)).toEqual(['c', 'b']);
    const second = await invoke(fn, {
      path: `/orgs/acme/recognitions?limit=2&cursor=${page.nextCursor}`,
      headers: { 'x-appwrite-user-id': 'carol' },
    });
    expect((second.body as { rows: { message: string }[] }).rows.map((r) => r.message)).toEqual(['a']);
    const outsider = await invoke(fn, {
      path: '/orgs/acme/recognitions',
      headers: { 'x-appwrite-user-id': 'dave' },
    });
    expect(outsider.status).toBe(403);
  });
});

describe('GET /health', () => {
  it('reports the recognitions table check', async () => {
    const out = await invoke(fn, { path: '/health' });
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({
      name: 'create-recognition',
      deploymentId: 'dep-1',
      status: 'ok',
      checks: { recognitions: { ok: true } },
    });
  });
});
