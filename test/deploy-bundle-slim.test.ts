/**
 * The zod trim of the function bundles (scripts/build-function.mjs `dropUnusedSchemaMethods`): schema methods no
 * bundled code calls are dropped from zod's classic schemas (with the classes, checks and regexes only they
 * keep); every method our code calls stays, and a bundle built with THE config parses as zod does.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Cron } from 'croner';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain .mjs build script without type declarations
import { bundle, dropUnusedSchemaMethods } from '../scripts/build-function.mjs';

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
