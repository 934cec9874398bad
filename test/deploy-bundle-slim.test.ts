/**
 * The zod trim of the function bundles (scripts/build-function.mjs `dropUnusedSchemaMethods`): schema methods no
 * bundled code calls are dropped from zod's classic schemas (with the classes, checks and regexes only they
 * keep); every method our code calls stays, and a bundle built with THE config parses as zod does. Likewise
 * node-appwrite's `Client` methods and `Query` statics a bundle never calls are cut (`appwriteUnusedMembers`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Cron } from 'croner';
import { Query } from 'node-appwrite';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain .mjs build script without type declarations
import { bundle, dropUnusedSchemaMethods, uncalledAppwriteMembers } from '../scripts/build-function.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const schemasJs = path.join(
  path.dirname(createRequire(import.meta.url).resolve('zod/package.json', { paths: [ROOT] })),
  'v4',
  'classic',
  'schemas.js',
);
// Inside the repository (node_modules is ignored by git) so that the entry resolves zod.
const dir = mkdtempSync(path.join(ROOT, 'node_modules', '.bundle-slim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('zod schema methods in function bundles', () => {
  it('drops the methods nothing calls and keeps those our code calls', () => {
    const { contents, dropped } = dropUnusedSchemaMethods(readFileSync(schemasJs, 'utf8')) as {
      contents: string;
      dropped: string[];
    };
    expect(dropped).toEqual(expect.arrayContaining(['email', 'jwt', 'ipv6', 'cidrv4', 'emoji', 'base64url']));
    for (const kept of [
      'optional',
      'nullable',
      'default',
      'transform',
      'refine',
      'min',
      'max',
      'int',
      'parse',
      'safeParse',
      'check',
      'clone',
      'array',
    ])
      expect(dropped).not.toContain(kept);
    expect(contents).toMatch(/^ {4}optional\(\) \{$/m);
    expect(contents).not.toMatch(/^ {4}email\(params\) \{$/m);
  });

  it('a bundle built with the function config parses and reports issues as zod does', async () => {
    const entry = path.join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import { z } from 'zod';
       const s = z.object({ name: z.string().min(2).max(5), n: z.number().int().min(0).optional(), at: z.iso.datetime().nullable().default(null) }).strict();
       export const results = [s.safeParse({ name: 'ab' }), s.safeParse({ name: 'a', n: 1.5 }), s.safeParse({ name: 'abc', x: 1 })]
         .map((r) => (r.success ? r.data : r.error.issues.map((i) => i.path.join('.') + ': ' + i.code)));`,
    );
    const outfile = path.join(dir, 'out.cjs');
    await bundle({ entry, outfile });
    const out = execFileSync(process.execPath, [
      '-e',
      `console.log(JSON.stringify(require(${JSON.stringify(outfile)}).results))`,
    ]).toString();
    expect(JSON.parse(out)).toEqual([
      { name: 'ab', at: null },
      ['name: too_small', 'n: invalid_type'],
      [': unrecognized_keys'],
    ]);
  });

  it('croner is built beside the bundle and loaded on first use, with the same results', async () => {
    const entry = path.join(dir, 'cron-entry.ts');
    writeFileSync(
      entry,
      `import { Cron } from 'croner';
import { Query } from 'node-appwrite';
       export const next = (expr: string, tz: string, from: number) =>
         new Cron(expr, { paused: true, mode: '5-part', timezone: tz }).nextRuns(3, new Date(from)).map((d) => d.getTime());`,
    );
    const outfile = path.join(dir, 'cron', 'out.cjs');
    await bundle({ entry, outfile });
    expect(existsSync(path.join(dir, 'cron', 'croner.cjs'))).toBe(true);
    expect(readFileSync(outfile, 'utf8')).not.toMatch(/Cron: Invalid/); // croner's code is not in the bundle
    const script = `
      const before = Object.keys(require.cache).some((f) => f.endsWith('croner.cjs'));
      const m = require(${JSON.stringify(outfile)});
      const loaded = Object.keys(require.cache).some((f) => f.endsWith('croner.cjs'));
      const runs = [m.next('*/15 9-17 * * 1-5', 'Europe/Berlin', Date.UTC(2026, 2, 27, 16)), m.next('0 2 * * *', 'America/New_York', Date.UTC(2026, 2, 7))];
      console.log(JSON.stringify({ before, loaded, after: Object.keys(require.cache).some((f) => f.endsWith('croner.cjs')), runs }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script]).toString());
    expect(out).toMatchObject({ before: false, loaded: false, after: true });
    const real = (expr: string, tz: string, from: number) =>
      new Cron(expr, { paused: true, mode: '5-part', timezone: tz })
        .nextRuns(3, new Date(from))
        .map((d) => d.getTime());
    expect(out.runs).toEqual([
      real('*/15 9-17 * * 1-5', 'Europe/Berlin', Date.UTC(2026, 2, 27, 16)),
      real('0 2 * * *', 'America/New_York', Date.UTC(2026, 2, 7)),
    ]);
  });
});

describe('node-appwrite members in function bundles', () => {
  it('lists the Client methods and Query statics an output never calls', () => {
    const uncalled = uncalledAppwriteMembers('c.call("GET",u);Q.equal("a",1);Q.createdBefore(x)') as Map<
      string,
      Set<string>
    >;
    const client = uncalled.get('client.mjs') ?? new Set();
    const query = uncalled.get('query.mjs') ?? new Set();
    expect([...client]).toEqual(
      expect.arrayContaining(['chunkedUpload', 'ping', 'redirect', 'setSelfSigned']),
    );
    expect(client.has('call')).toBe(false);
    expect(client.has('constructor')).toBe(false);
    expect([...query]).toEqual(expect.arrayContaining(['notTouches', 'vectorDot', 'elemMatch', 'or']));
    expect(query.has('equal')).toBe(false);
    expect(query.has('createdBefore')).toBe(false);
  });

  it('cuts what a bundle never calls, keeps what it calls, and the kept members work as in the SDK', async () => {
    const entry = path.join(dir, 'appwrite-entry.ts');
    writeFileSync(
      entry,
      `import { Client, Query } from 'node-appwrite';
       const c = new Client().setEndpoint('http://localhost:1/v1').setProject('p').setKey('k');
       export const queries = [Query.equal('a', [1, 2]), Query.limit(5), Query.createdAfter('2026-01-01')];
       export const members = { call: typeof c.call, chunkedUpload: typeof (c as any).chunkedUpload, ping: typeof (c as any).ping };
       export const statics = { notTouches: typeof (Query as any).notTouches, greaterThan: typeof Query.greaterThan };`,
    );
    const outfile = path.join(dir, 'appwrite', 'out.cjs');
    await bundle({ entry, outfile });
    // Only calls keep a member: reading \`typeof c.chunkedUpload\` does not, so those report 'undefined' here.
    const out = JSON.parse(
      execFileSync(process.execPath, [
        '-e',
        `const m = require(${JSON.stringify(outfile)}); console.log(JSON.stringify({ queries: m.queries, members: m.members, statics: m.statics }))`,
      ]).toString(),
    );
    expect(out.queries).toEqual([Query.equal('a', [1, 2]), Query.limit(5), Query.createdAfter('2026-01-01')]);
    // greaterThan is kept because createdAfter calls it.
    expect(out.members).toEqual({ call: 'function', chunkedUpload: 'undefined', ping: 'undefined' });
    expect(out.statics).toEqual({ notTouches: 'undefined', greaterThan: 'function' });
  });

  it('keeps a member the bundle calls (chunkedUpload where code uploads)', async () => {
    const entry = path.join(dir, 'upload-entry.ts');
    writeFileSync(
      entry,
      `import { Client } from 'node-appwrite';
       const c = new Client();
       export const upload = (u: URL) => c.chunkedUpload('post', u, {}, {});
       export const kind = typeof c.chunkedUpload;`,
    );
    const outfile = path.join(dir, 'upload', 'out.cjs');
    await bundle({ entry, outfile });
    const out = execFileSync(process.execPath, [
      '-e',
      `console.log(require(${JSON.stringify(outfile)}).kind)`,
    ]).toString();
    expect(out.trim()).toBe('function');
  });
});
