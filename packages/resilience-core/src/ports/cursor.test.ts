import { describe, expect, it } from 'vitest';
import { MemoryTableStore } from '../adapters/memory/memory-table-store.ts';
import { hasCode } from '../errors.ts';
import { cursorSchema, openCursor, sealCursor, sealedPage } from './cursor.ts';

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(hasCode(error, 'INVALID_INPUT')).toBe(true);
  const e = error as { message: string; issues: { path: string; message: string }[] };
  expect(e.issues).toHaveLength(1);
  expect(e.issues[0]?.path).toBe('cursor');
  return `${e.message} ${e.issues[0]?.message}`;
}

describe('opaque, org-bound cursors', () => {
  const store = new MemoryTableStore();
  const scopeA = { table: 'recognitions', match: { orgId: 'A' } };

  it('seals a row id into base64url that opens back to it for its own list', async () => {
    await store.create('recognitions', 'ra1', { orgId: 'A', kind: 'x' });
    const cursor = sealCursor('ra1', scopeA)!;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain('ra1');
    expect(cursorSchema.safeParse(cursor).success).toBe(true);
    expect(await openCursor(store, cursor, scopeA)).toBe('ra1');
    expect(sealCursor(null, scopeA)).toBeNull();
    expect(await openCursor(store, undefined, scopeA)).toBeUndefined();
  });

  it("refuses another org's row, an unknown row, another table, a raw id and garbage — all alike", async () => {
    await store.create('recognitions', 'rb1', { orgId: 'B', kind: 'x' });
    await store.create('other', 'ra1', { orgId: 'A' });
    const messages = new Set([
      await refusal(openCursor(store, sealCursor('rb1', scopeA)!, scopeA)),
      await refusal(openCursor(store, sealCursor('nope', scopeA)!, scopeA)),
      await refusal(openCursor(store, sealCursor('ra1', { table: 'other' })!, scopeA)),
      await refusal(openCursor(store, 'rb1', scopeA)),
      await refusal(openCursor(store, '..', scopeA)),
      await refusal(openCursor(store, Buffer.from('1|recognitions|..').toString('base64url'), scopeA)),
      await refusal(openCursor(store, Buffer.from('1|recognitions|ra1|x').toString('base64url'), scopeA)),
      await refusal(openCursor(store, 'x'.repeat(400), scopeA)),
    ]);
    // One answer for every refusal: nothing tells a foreign row from a missing one.
    expect(messages.size).toBe(1);
  });

  it("checks the list's other filters too (a cursor of one receiver's list is not another's)", async () => {
    await store.create('recognitions', 'ra2', { orgId: 'A', receiverId: 'u1' });
    const scope = { table: 'recognitions', match: { orgId: 'A', receiverId: 'u2' } };
    await refusal(openCursor(store, sealCursor('ra2', scope)!, scope));
    const ignored = { table: 'recognitions', match: { orgId: 'A', receiverId: undefined } };
    expect(await openCursor(store, sealCursor('ra2', ignored)!, ignored)).toBe('ra2');
  });

  it('sealedPage opens, lists with the row id and seals the next cursor', async () => {
    const seen: (string | undefined)[] = [];
    const page = await sealedPage(store, sealCursor('ra1', scopeA)!, scopeA, async (cursor) => {
      seen.push(cursor);
      return { rows: [1], nextCursor: 'ra2' };
    });
    expect(seen).toEqual(['ra1']);
    expect(await openCursor(store, page.nextCursor!, scopeA)).toBe('ra2');
  });
});
