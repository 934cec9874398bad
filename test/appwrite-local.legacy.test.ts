/**
 * The legacy Databases routes `appwrite push tables` uses (attributes and indexes under
 * `/databases/{db}/collections/{c}`), spoken as the CLI does (response format 1.8.0), plus `/health`.
 * Legacy routes raise the legacy error types (`collection_not_found`, `attribute_*`, `index_*`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalHarness, startHarness } from './appwrite-local-helpers.ts';
import { checkAgainstSpec } from './appwrite-local-openapi.ts';

let h: LocalHarness;
const BASE = '/databases/db/collections/c';
const cli = { 'x-appwrite-response-format': '1.8.0', 'x-appwrite-mode': 'default' };
const post = (path: string, body: object) =>
  h.raw('POST', path, { body: JSON.stringify(body), headers: cli });

beforeAll(async () => {
  h = await startHarness();
  await h.tables.create({ databaseId: 'db', name: 'db' });
  await h.tables.createTable({ databaseId: 'db', tableId: 'c', name: 'c' });
});

afterAll(async () => {
  await h?.server.stop();
});

describe('legacy attributes and indexes', () => {
  it('creates every attribute type with 202 and lists them available', async () => {
    const bodies: [string, object][] = [
      ['string', { key: 's', size: 10, required: false, default: null, array: false }],
      ['integer', { key: 'i', required: false, min: 0, max: 9, default: 1, array: false }],
      ['float', { key: 'f', required: false, default: null, array: false }],
      ['boolean', { key: 'b', required: false, default: true, array: false }],
      ['datetime', { key: 'd', required: false, default: null, array: false }],
      ['enum', { key: 'e', elements: ['x', 'y'], required: false, default: 'x', array: false }],
      ['email', { key: 'em', required: false, default: null, array: false }],
      ['url', { key: 'u', required: false, default: null, array: false }],
      ['ip', { key: 'ip', required: false, default: null, array: false }],
      ['varchar', { key: 'v', size: 20, required: false }],
      ['text', { key: 't', required: false }],
      ['mediumtext', { key: 'mt', required: false }],
      ['longtext', { key: 'lt', required: false }],
    ];
    for (const [type, body] of bodies) {
      const res = await post(`${BASE}/attributes/${type}`, body);
      expect([type, res.status]).toEqual([type, 202]);
    }
    const list = await h.raw(
      'GET',
      `${BASE}/attributes?queries[0]=${encodeURIComponent('{"method":"limit","values":[100]}')}`,
      { headers: cli },
    );
    const attributes = (list.json as { total: number; attributes: { key: string; status: string }[] })
      .attributes;
    expect(attributes).toHaveLength(bodies.length);
    expect(attributes.every((a) => a.status === 'available')).toBe(true);
    const dup = await post(`${BASE}/attributes/string`, { key: 's', size: 5, required: false });
    expect([dup.status, (dup.json as { type: string }).type]).toEqual([409, 'attribute_already_exists']);
  });

  it('gets, updates and deletes an attribute', async () => {
    expect((await h.raw('GET', `${BASE}/attributes/i`, { headers: cli })).json).toMatchObject({
      key: 'i',
      type: 'integer',
      min: 0,
      max: 9,
    });
    const patched = await h.raw('PATCH', `${BASE}/attributes/integer/i`, {
      body: JSON.stringify({ required: false, min: 0, max: 50, default: 2 }),
      headers: cli,
    });
    expect([patched.status, patched.json]).toMatchObject([200, { max: 50, default: 2 }]);
    const wrongType = await h.raw('PATCH', `${BASE}/attributes/string/i`, {
      body: JSON.stringify({ required: false, default: null }),
      headers: cli,
    });
    expect((wrongType.json as { type: string }).type).toBe('attribute_type_invalid');
    expect((await h.raw('DELETE', `${BASE}/attributes/lt`, { headers: cli })).status).toBe(204);
    const gone = await h.raw('GET', `${BASE}/attributes/lt`, { headers: cli });
    expect([gone.status, (gone.json as { type: string }).type]).toEqual([404, 'attribute_not_found']);
  });

  it('creates, lists, gets and deletes an index with `attributes`', async () => {
    const created = await post(`${BASE}/indexes`, {
      key: 'by_s',
      type: 'key',
      attributes: ['s'],
      orders: ['asc'],
    });
    expect([created.status, created.json]).toMatchObject([
      202,
      { key: 'by_s', attributes: ['s'], orders: ['ASC'], status: 'available' },
    ]);
    const list = await h.raw('GET', `${BASE}/indexes`, { headers: cli });
    expect((list.json as { indexes: { key: string }[] }).indexes.map((i) => i.key)).toEqual(['by_s']);
    expect((await h.raw('GET', `${BASE}/indexes/by_s`, { headers: cli })).status).toBe(200);
    const unknown = await post(`${BASE}/indexes`, { key: 'bad', type: 'key', attributes: ['nope'] });
    expect([unknown.status, (unknown.json as { type: string }).type]).toEqual([400, 'attribute_unknown']);
    const dependent = await h.raw('DELETE', `${BASE}/attributes/s`, { headers: cli });
    expect([dependent.status, (dependent.json as { type: string }).type]).toEqual([409, 'index_dependency']);
    expect((await h.raw('DELETE', `${BASE}/indexes/by_s`, { headers: cli })).status).toBe(204);
    const gone = await h.raw('GET', `${BASE}/indexes/by_s`, { headers: cli });
    expect([gone.status, (gone.json as { type: string }).type]).toEqual([404, 'index_not_found']);
  });

  it('answers a missing collection with collection_not_found', async () => {
    const res = await h.raw('GET', '/databases/db/collections/none/attributes', { headers: cli });
    expect([res.status, (res.json as { type: string }).type]).toEqual([404, 'collection_not_found']);
  });

  it('serves /health to a key with health.read', async () => {
    expect((await h.raw('GET', '/health')).json).toEqual({ name: 'http', ping: 0, status: 'pass' });
  });

  it('answered with bodies that match the OpenAPI schemas', () => {
    const report = checkAgainstSpec(h.trace);
    expect(report.problems).toEqual([]);
    expect(report.checked).toBeGreaterThan(20);
  });
});
