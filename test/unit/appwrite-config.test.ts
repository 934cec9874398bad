/**
 * appwrite.json is generated (scripts/gen-appwrite-json.ts) and checked here, so config and code cannot drift:
 * 1. it validates against a zod schema of what appwrite-cli 12 accepts (platform notes §B2–§B4);
 * 2. it equals what the generator produces from `allTables` and scripts/appwrite-config.ts;
 * 3. every table in `allTables` has a `rowSchema` (the zod schema its service parses rows with), and it fits
 *    the declared columns: types, nullability vs `required`, arrays, sizes, enums, numeric bounds
 *    (test/row-schema-check.ts), with tests proving each rule can fail.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import { allTables, type ColumnSpec, counterSpecProblems, lazySchema, type TableSpec } from 'resilience-core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildAppwriteConfig } from '../../scripts/appwrite-config.ts';
import { rowSchemaProblems } from '../row-schema-check.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const file = path.join(root, 'appwrite.json');

const ID = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$/;
const id = z.string().regex(ID, 'Appwrite id: 1–36 of [a-zA-Z0-9._-], not starting with a special character');
const RUNTIMES = [
  'node-14.5',
  'node-16.0',
  'node-18.0',
  'node-19.0',
  'node-20.0',
  'node-21.0',
  'node-22',
] as const;
/** Scopes a function's dynamic key may carry (the subset this project can use). */
const SCOPES = [
  'rows.read',
  'rows.write',
  'tables.read',
  'tables.write',
  'teams.read',
  'teams.write',
  'users.read',
  'users.write',
  'functions.read',
  'functions.write',
  'execution.read',
  'execution.write',
  'databases.read',
  'databases.write',
  'files.read',
  'files.write',
  'buckets.read',
  'messages.write',
] as const;
const ROLE =
  /^(any|guests|users(\/(verified|unverified))?|user:[^/]+(\/(verified|unverified))?|team:[^/]+(\/[^/]+)?|member:.+|label:.+)$/;

const cron = z.string().refine((s) => {
  if (s === '') return true;
  if (s.trim().split(/\s+/).length !== 5 && !s.startsWith('@')) return false;
  try {
    new Cron(s, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}, 'a 5-field cron expression or ""');

const functionSchema = z.strictObject({
  $id: id,
  name: z.string().min(1).max(128),
  runtime: z.enum(RUNTIMES),
  execute: z.array(z.string().regex(ROLE)).max(100),
  events: z.array(z.string().min(1)).max(100),
  schedule: cron,
  timeout: z.number().int().min(1).max(900),
  enabled: z.boolean(),
  logging: z.boolean(),
  entrypoint: z.string().min(1),
  commands: z.string(),
  path: z.string().min(1),
  ignore: z.union([z.string(), z.array(z.string())]).optional(),
  scopes: z.array(z.enum(SCOPES)).max(100),
  specification: z.string().min(1).optional(),
});

const scalarDefault = z.union([z.string(), z.number(), z.boolean()]);
const columnSchema = z
  .strictObject({
    key: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$/),
    // What `push tables` can create in CLI 12 for this project: no float (use double), no 1.9-only types.
    type: z.enum(['string', 'integer', 'double', 'boolean', 'datetime']),
    required: z.boolean(),
    array: z.boolean(),
    size: z.number().int().min(1).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    format: z.enum(['email', 'url', 'ip', 'enum', 'datetime']).optional(),
    elements: z.array(z.string().min(1)).min(1).optional(),
    default: scalarDefault.nullable().optional(),
    encrypt: z.boolean().optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (message: string) => ctx.addIssue({ code: 'custom', message: `${c.key}: ${message}` });
    // Plain strings go to the string endpoint, which needs size; email/url/ip/enum use their own endpoints.
    if (c.type === 'string' && c.format === undefined && c.size === undefined) issue('string needs size');
    if (c.type !== 'string' && c.size !== undefined) issue('size only on strings');
    // CLI 12 recreates (drops!) a column whose format/encrypt differ from the server's on every push.
    if (c.type === 'datetime' && c.format !== 'datetime')
      issue('datetime needs format "datetime" (else push recreates it)');
    if (c.type !== 'string' && c.type !== 'datetime' && c.format !== undefined)
      issue('format only on strings');
    if (c.type === 'string' && c.format === 'datetime') issue('format datetime only on datetime columns');
    if (c.type === 'string' && c.format === undefined && c.encrypt !== false) {
      issue('plain strings need encrypt:false (else push may recreate them)');
    }
    if (c.format === 'enum' && !c.elements) issue('enum needs elements');
    if (c.elements && c.format !== 'enum') issue('elements only with format enum');
    if ((c.min !== undefined || c.max !== undefined) && c.type !== 'integer' && c.type !== 'double') {
      issue('min/max only on integer/double');
    }
    if (c.min !== undefined && c.max !== undefined && c.min > c.max) issue('min > max');
    if (c.default !== undefined && c.default !== null) {
      if (c.required) issue('a default needs required:false');
      if (c.array) issue('array columns take no default');
      const t = typeof c.default;
      const ok =
        c.type === 'string' || c.type === 'datetime'
          ? t === 'string'
          : c.type === 'boolean'
            ? t === 'boolean'
            : t === 'number' && (c.type === 'double' || Number.isInteger(c.default));
      if (!ok) issue(`default ${JSON.stringify(c.default)} does not fit ${c.type}`);
      if (c.format === 'enum' && !c.elements?.includes(String(c.default)))
        issue('default not among elements');
      if (
        typeof c.default === 'number' &&
        ((c.min !== undefined && c.default < c.min) || (c.max !== undefined && c.default > c.max))
      ) {
        issue('default outside min/max');
      }
    }
  });

const indexSchema = z.strictObject({
  key: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$/),
  type: z.enum(['key', 'unique', 'fulltext', 'spatial']),
  columns: z.array(z.string()).min(1),
  orders: z.array(z.string().regex(/^(asc|desc)$/i)).optional(),
});

const tableSchema = z
  .strictObject({
    $id: id,
    $permissions: z.array(z.string()),
    databaseId: id,
    name: z.string().min(1).max(128),
    enabled: z.boolean(),
    rowSecurity: z.boolean(),
    columns: z.array(columnSchema),
    indexes: z.array(indexSchema),
  })
  .superRefine((t, ctx) => {
    const keys = t.columns.map((c) => c.key);
    if (new Set(keys).size !== keys.length)
      ctx.addIssue({ code: 'custom', message: `${t.$id}: duplicate column key` });
    const indexKeys = t.indexes.map((i) => i.key);
    if (new Set(indexKeys).size !== indexKeys.length) {
      ctx.addIssue({ code: 'custom', message: `${t.$id}: duplicate index key` });
    }
    for (const index of t.indexes) {
      for (const col of index.columns) {
        if (!keys.includes(col) && !['$id', '$createdAt', '$updatedAt', '$sequence'].includes(col)) {
          ctx.addIssue({ code: 'custom', message: `${t.$id}.${index.key}: unknown column ${col}` });
        }
      }
      if (index.orders && index.orders.length > index.columns.length) {
        ctx.addIssue({ code: 'custom', message: `${t.$id}.${index.key}: more orders than columns` });
      }
    }
  });

/** What appwrite-cli 12 accepts in appwrite.json (the parts this project uses; unknown keys refused). */
const appwriteJsonSchema = z
  .strictObject({
    projectId: z.string().optional(),
    projectName: z.string().optional(),
    endpoint: z.string().optional(),
    functions: z.array(functionSchema),
    tablesDB: z.array(z.strictObject({ $id: id, name: z.string().min(1), enabled: z.boolean() })).min(1),
    tables: z.array(tableSchema),
  })
  .superRefine((doc, ctx) => {
    const dbs = new Set(doc.tablesDB.map((d) => d.$id));
    for (const t of doc.tables) {
      if (!dbs.has(t.databaseId))
        ctx.addIssue({ code: 'custom', message: `${t.$id}: unknown database ${t.databaseId}` });
    }
    for (const list of [doc.functions.map((f) => f.$id), doc.tables.map((t) => t.$id)]) {
      if (new Set(list).size !== list.length)
        ctx.addIssue({ code: 'custom', message: `duplicate ids: ${list}` });
    }
  });

const committed = JSON.parse(readFileSync(file, 'utf8')) as unknown;

describe('appwrite.json', () => {
  it('validates against what appwrite-cli 12 accepts', () => {
    const result = appwriteJsonSchema.safeParse(committed);
    expect(result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(
      [],
    );
  });

  it('equals the generated config (run `npx tsx scripts/gen-appwrite-json.ts` after changing tables or functions)', () => {
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildAppwriteConfig())));
  });

  it('declares every table in allTables, once', () => {
    const ids = allTables.map((t) => t.$id);
    expect(new Set(ids).size).toBe(ids.length);
    expect((committed as { tables: { $id: string }[] }).tables.map((t) => t.$id).sort()).toEqual(
      [...ids].sort(),
    );
  });

  it('points every function at a buildable folder and never lets guests execute', () => {
    for (const fn of (committed as { functions: z.infer<typeof functionSchema>[] }).functions) {
      expect(existsSync(path.join(root, fn.path, 'src', 'main.ts')), fn.path).toBe(true);
      expect(fn.entrypoint).toBe('dist/main.js');
      expect(fn.commands).toBe('');
      // The function kit reads "no x-appwrite-user-id" as a server (API key) call: guests must never execute.
      expect(
        fn.execute.filter((r) => r === 'any' || r === 'guests'),
        fn.$id,
      ).toEqual([]);
    }
  });

  it('schedules job-worker every minute and quota-reset daily at 00:00, and keeps deploy-orchestrator key-only', () => {
    const fns = Object.fromEntries(
      (committed as { functions: z.infer<typeof functionSchema>[] }).functions.map((f) => [f.$id, f]),
    );
    expect(fns['job-worker']?.schedule).toBe('* * * * *');
    expect(fns['quota-reset']?.schedule).toBe('0 0 * * *');
    expect(fns['deploy-orchestrator']?.execute).toEqual([]);
    expect(fns['create-recognition']?.execute).toEqual(['users']);
  });

  it('gives every rolled-out function a standby twin that never ticks, reacts to events or serves users', () => {
    const list = (committed as { functions: z.infer<typeof functionSchema>[] }).functions;
    const fns = Object.fromEntries(list.map((f) => [f.$id, f]));
    const live = list.filter((f) => !f.$id.endsWith('-standby'));
    for (const fn of live) {
      const twin = fns[`${fn.$id}-standby`];
      // deploy-orchestrator is deployed directly: it would switch its own deployment mid-rollout.
      if (fn.$id === 'deploy-orchestrator') {
        expect(twin, fn.$id).toBeUndefined();
        continue;
      }
      expect(twin, `${fn.$id}-standby`).toMatchObject({
        path: fn.path,
        entrypoint: fn.entrypoint,
        timeout: fn.timeout,
        scopes: fn.scopes,
        execute: [],
        events: [],
        schedule: '',
      });
    }
    expect(list.filter((f) => f.$id.endsWith('-standby')).map((f) => f.$id)).toEqual([
      'create-recognition-standby',
      'job-worker-standby',
      'quota-reset-standby',
    ]);
  });
});

// --- row schemas vs columns ------------------------------------------------------------------------------

describe('row schemas fit their declared columns', () => {
  it('every table in allTables declares the rowSchema its service parses rows with', () => {
    expect(allTables.filter((t) => !t.rowSchema).map((t) => t.$id)).toEqual([]);
  });

  it.each(allTables.map((t) => [t.$id, t] as const))('%s', (_id, spec) => {
    expect(rowSchemaProblems(spec)).toEqual([]);
  });

  it('flags every real table once one of its columns drifts (dropped, retyped, or required flipped)', () => {
    let checked = 0;
    for (const spec of allTables) {
      for (const column of spec.columns) {
        const at = `${spec.$id}.${column.key}`;
        const others = spec.columns.filter((c) => c !== column);
        const drifted = (c: ColumnSpec) => rowSchemaProblems({ ...spec, columns: [...others, c] });

        expect(rowSchemaProblems({ ...spec, columns: others }), `${at} dropped`).toEqual([
          `${column.key}: not a declared column`,
        ]);
        const retyped: ColumnSpec = {
          key: column.key,
          type: column.type === 'boolean' ? 'integer' : 'boolean',
          required: column.required,
          array: column.array ?? false,
        };
        expect(drifted(retyped).join('\n'), `${at} retyped`).toMatch(
          new RegExp(`^${column.key}: zod .* does not fit column`, 'm'),
        );
        const { default: _default, ...noDefault } = column;
        if (column.required) {
          expect(drifted({ ...noDefault, required: false }), `${at} made optional`).toContain(
            `${column.key}: column is not required and has no default (null on read) but zod refuses null`,
          );
        } else if (column.default === undefined) {
          // Not required, no default: its zod field accepts null, which a required column refuses.
          expect(drifted({ ...column, required: true }), `${at} made required`).toContain(
            `${column.key}: zod accepts null but the column is required`,
          );
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe('the row schema check can fail', () => {
  const spec = (columns: ColumnSpec[], rowSchema: TableSpec['rowSchema']): TableSpec => ({
    $id: 'x',
    name: 'x',
    columns,
    indexes: [],
    ...(rowSchema ? { rowSchema } : {}),
  });

  it('reports a table without a rowSchema', () => {
    expect(rowSchemaProblems(spec([{ key: 'n', type: 'integer', required: true }], undefined))).toEqual([
      'x: no rowSchema',
    ]);
  });

  it('reports undeclared fields and columns the schema does not cover', () => {
    const problems = rowSchemaProblems(
      spec(
        [
          { key: 's', type: 'string', size: 5, required: true },
          { key: 'o', type: 'string', size: 5, required: false },
        ],
        z.object({ extra: z.string() }),
      ),
    );
    expect(problems).toEqual([
      'extra: not a declared column',
      's: required column missing from rowSchema',
      'o: column missing from rowSchema (unused, or read without a check)',
    ]);
  });

  it('reports type mismatches for every column type', () => {
    const problems = rowSchemaProblems(
      spec(
        [
          { key: 'i', type: 'integer', required: true },
          { key: 'd', type: 'double', required: true },
          { key: 's', type: 'string', size: 10, required: true },
          { key: 'b', type: 'boolean', required: true },
          { key: 't', type: 'datetime', required: true },
          { key: 't2', type: 'datetime', required: true },
          { key: 'e', type: 'string', size: 64, format: 'email', required: true },
        ],
        z.object({
          i: z.number(),
          d: z.string(),
          s: z.number().int(),
          b: z.literal(1),
          t: z.string(),
          t2: z.number().int(),
          e: z.string().max(64),
        }),
      ),
    );
    expect(problems).toEqual([
      'i: zod number does not fit column integer',
      'd: zod string does not fit column double',
      's: zod number (int) does not fit column string',
      'b: zod literal does not fit column boolean',
      't: zod string does not fit column datetime',
      't2: zod number (int) does not fit column datetime',
      'e: zod string does not fit column string (email)',
    ]);
  });

  it('accepts the compatible counterpart of each column type', () => {
    const problems = rowSchemaProblems(
      spec(
        [
          { key: 'i', type: 'integer', required: true, min: 0, max: 10 },
          { key: 'd', type: 'double', required: false, default: 1.5 },
          { key: 's', type: 'string', size: 10, required: false },
          { key: 'b', type: 'boolean', required: true },
          { key: 't', type: 'datetime', required: true },
          { key: 'e', type: 'string', size: 64, format: 'email', required: true },
          { key: 'k', type: 'string', size: 8, format: 'enum', elements: ['a', 'b'], required: true },
          { key: 'a', type: 'string', size: 4, array: true, required: false },
        ],
        z.object({
          i: z.number().int().positive().lt(11),
          d: z.number(),
          s: z.string().max(10).nullable(),
          b: z.boolean(),
          t: z.iso.datetime({ offset: true }),
          e: z.email(),
          k: z.enum(['b', 'a']),
          a: z
            .array(z.string().max(4))
            .nullable()
            .transform((v) => v ?? []),
        }),
      ),
    );
    expect(problems).toEqual([]);
  });

  it('reports nullability that disagrees with `required`', () => {
    const problems = rowSchemaProblems(
      spec(
        [
          { key: 'r1', type: 'string', size: 5, required: true },
          { key: 'r2', type: 'string', size: 5, required: true },
          { key: 'n', type: 'string', size: 5, required: false },
        ],
        z.object({ r1: z.string().nullable(), r2: z.string().optional(), n: z.string() }),
      ),
    );
    expect(problems).toEqual([
      'r1: zod accepts null but the column is required',
      'r2: zod accepts undefined but the column is required',
      'n: column is not required and has no default (null on read) but zod refuses null',
    ]);
  });

  it('reports array mismatches both ways', () => {
    const problems = rowSchemaProblems(
      spec(
        [
          { key: 'list', type: 'string', size: 5, array: true, required: true },
          { key: 'one', type: 'string', size: 5, required: true },
        ],
        z.object({ list: z.string(), one: z.array(z.string()) }),
      ),
    );
    expect(problems).toEqual([
      'list: array column but zod is not an array',
      'one: zod array but column is not an array',
    ]);
  });

  it('reports a zod max above the column size, also for array elements and enum values', () => {
    const problems = rowSchemaProblems(
      spec(
        [
          { key: 's', type: 'string', size: 5, required: true },
          { key: 'a', type: 'string', size: 5, array: true, required: true },
          { key: 'k', type: 'string', size: 3, required: true },
        ],
        z.object({ s: z.string().max(6), a: z.array(z.string().max(9)), k: z.enum(['abc', 'abcd']) }),
      ),
    );
    expect(problems).toEqual([
      's: zod max 6 exceeds column size 5',
      'a: zod max 9 exceeds column size 5',
      'k: enum values abcd exceed column size 3',
    ]);
  });

  it('reports enum values and column elements that differ, and a free string on an enum column', () => {
    const problems = rowSchemaProblems(
      spec(
        [
          { key: 'k', type: 'string', size: 8, format: 'enum', elements: ['a', 'b'], required: true },
          { key: 'f', type: 'string', size: 8, format: 'enum', elements: ['a'], required: true },
        ],
        z.object({ k: z.enum(['b', 'c']), f: z.string() }),
      ),
    );
    expect(problems).toEqual([
      'k: zod enum values c are not column elements (Appwrite refuses them)',
      'k: column elements a are not zod enum values (a stored one fails to parse)',
      'f: enum column needs a zod enum (a free string could be refused by Appwrite)',
    ]);
  });

  it('reports numeric bounds looser than the column', () => {
    const problems = rowSchemaProblems(
      spec(
        [
          { key: 'a', type: 'integer', required: true, min: 1, max: 100 },
          { key: 'b', type: 'integer', required: true, min: 0 },
        ],
        z.object({ a: z.number().int().nonnegative().max(100), b: z.number().int().max(5) }),
      ),
    );
    expect(problems).toEqual([
      'a: zod allows values below the column min 1 (zod min 0)',
      `b: zod allows values below the column min 0 (zod min ${Number.MIN_SAFE_INTEGER})`,
    ]);
  });

  it('sees through lazySchema stand-ins and reports zod types it cannot check', () => {
    const problems = rowSchemaProblems(
      spec(
        [
          { key: 'n', type: 'integer', required: true },
          { key: 'u', type: 'string', size: 5, required: true },
        ],
        lazySchema(() => z.object({ n: lazySchema(() => z.number()), u: z.union([z.string(), z.number()]) })),
      ),
    );
    expect(problems).toEqual([
      'n: zod number does not fit column integer',
      'u: zod union does not fit column string',
    ]);
  });
});

describe('appwrite.json column rules', () => {
  it('refuses a default on a required column and a string without size', () => {
    const bad = [
      { key: 'a', type: 'string', required: true, array: false, default: 'x', size: 3 },
      { key: 'b', type: 'string', required: false, array: false },
    ];
    expect(z.array(columnSchema).safeParse(bad).success).toBe(false);
  });
});

// --- counters ----------------------------------------------------------------------------------------------

/** Every column name the core increments: `increment` ops and `store.increment(table, id, 'column', …)` calls. */
function incrementedColumns(): Set<string> {
  const out = new Set<string>();
  const src = path.join(root, 'packages', 'resilience-core', 'src');
  for (const file of readdirSync(src, { recursive: true }) as string[]) {
    if (!file.endsWith('.ts') || /\.test\.ts$|(^|\/)(testing|adapters)\//.test(file)) continue;
    const text = readFileSync(path.join(src, file), 'utf8');
    for (const m of text.matchAll(/action: 'increment',[^}]*?column: '(\w+)'/gs)) out.add(m[1]!);
    for (const m of text.matchAll(/\.increment\(\s*[\w.]+,\s*[^,]+,\s*'(\w+)'/g)) out.add(m[1]!);
    // The compare-and-set helpers (ports/compare-and-set.ts) increment `version`, or the `column` they are given.
    for (const m of text.matchAll(/\b(?:versionBump|versionedUpdate|versionedDelete)\(\s*\{([^}]*)\}/g)) {
      out.add(/column: '(\w+)'/.exec(m[1]!)?.[1] ?? 'version');
    }
  }
  return out;
}

describe('counter columns (ColumnSpec.counter)', () => {
  const counters = allTables.flatMap((t) =>
    t.columns.filter((c) => c.counter).map((c) => `${t.$id}.${c.key}`),
  );

  it('every counter is declared so that no row can hold NULL (required, or a numeric default)', () => {
    expect(
      allTables.flatMap((t) => counterSpecProblems(t).map((p) => `${t.$id}.${p.key}: ${p.problem}`)),
    ).toEqual([]);
    expect(counters.length).toBeGreaterThanOrEqual(9);
  });

  it('every column the code increments is marked as a counter, and every counter is incremented', () => {
    const incremented = incrementedColumns();
    expect(incremented.size).toBeGreaterThanOrEqual(6);
    const counterKeys = new Set(counters.map((c) => c.split('.').pop()!));
    expect([...incremented].filter((k) => !counterKeys.has(k))).toEqual([]);
    expect([...counterKeys].filter((k) => !incremented.has(k))).toEqual([]);
  });

  it('counterSpecProblems refuses what could hold NULL, and a required counter with a default', () => {
    const spec = (column: Partial<ColumnSpec>): TableSpec => ({
      $id: 't',
      name: 't',
      columns: [{ key: 'n', type: 'integer', required: false, counter: true, ...column }],
      indexes: [],
    });
    expect(counterSpecProblems(spec({ default: 0 }))).toEqual([]);
    expect(counterSpecProblems(spec({ required: true }))).toEqual([]);
    expect(counterSpecProblems(spec({})).map((p) => p.problem)).toEqual([
      expect.stringMatching(/needs a numeric default/),
    ]);
    expect(counterSpecProblems(spec({ required: true, default: 0 })).map((p) => p.problem)).toEqual([
      'Appwrite refuses a default on a required column',
    ]);
    expect(counterSpecProblems(spec({ type: 'double', default: 0 })).map((p) => p.problem)).toEqual([
      'a counter must be an integer column, not double',
    ]);
  });
});
