/**
 * appwrite.json is generated (scripts/gen-appwrite-json.ts) and checked here, so config and code cannot drift:
 * 1. it validates against a zod schema of what appwrite-cli 12 accepts (platform notes §B2–§B4);
 * 2. it equals what the generator produces from `allTables` and scripts/appwrite-config.ts;
 * 3. every table's `rowSchema` (when given) fits its declared columns.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import { allTables, type ColumnSpec, type TableSpec } from 'resilience-core';
import { describe, expect, it } from 'vitest';
import { type ZodType, z } from 'zod';
import { buildAppwriteConfig } from '../scripts/appwrite-config.ts';

const root = path.resolve(import.meta.dirname, '..');
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

interface Shape {
  kind: 'string' | 'number' | 'int' | 'boolean' | 'unknown';
  array: boolean;
  optional: boolean;
  enumValues?: readonly string[];
}

/** Reduces a zod field schema to what matters for column compatibility. */
function shapeOf(schema: ZodType, optional = false, array = false): Shape {
  const def = (schema as unknown as { def: Record<string, unknown> & { type: string } }).def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
      return shapeOf(def.innerType as ZodType, optional || def.type !== 'catch', array);
    case 'readonly':
      return shapeOf(def.innerType as ZodType, optional, array);
    case 'pipe':
      return shapeOf(def.in as ZodType, optional, array);
    case 'array':
      return shapeOf(def.element as ZodType, optional, true);
    case 'string':
      return { kind: 'string', array, optional };
    case 'enum':
      return {
        kind: 'string',
        array,
        optional,
        enumValues: Object.values(def.entries as object) as string[],
      };
    case 'literal': {
      const values = def.values as unknown[];
      const t = typeof values[0];
      return { kind: t === 'string' ? 'string' : t === 'boolean' ? 'boolean' : 'number', array, optional };
    }
    case 'number':
      return { kind: (schema as unknown as { isInt?: boolean }).isInt ? 'int' : 'number', array, optional };
    case 'boolean':
      return { kind: 'boolean', array, optional };
    default:
      return { kind: 'unknown', array, optional };
  }
}

/** The problems of one table's rowSchema against its columns (empty when compatible). */
function rowSchemaProblems(spec: TableSpec): string[] {
  const shape = (spec.rowSchema as unknown as { shape: Record<string, ZodType> }).shape;
  const columns = new Map<string, ColumnSpec>(spec.columns.map((c) => [c.key, c]));
  const problems: string[] = [];
  for (const [field, schema] of Object.entries(shape)) {
    const column = columns.get(field);
    if (!column) {
      problems.push(`${field}: not a declared column`);
      continue;
    }
    const s = shapeOf(schema);
    const want =
      column.type === 'string' || column.type === 'datetime'
        ? ['string']
        : column.type === 'integer'
          ? ['int']
          : column.type === 'double'
            ? ['int', 'number']
            : ['boolean'];
    if (!want.includes(s.kind)) problems.push(`${field}: zod ${s.kind} vs column ${column.type}`);
    if (s.array !== (column.array ?? false)) problems.push(`${field}: array mismatch`);
    if (s.optional && column.required) problems.push(`${field}: optional in zod but required column`);
    if (s.enumValues && column.format === 'enum') {
      const missing = s.enumValues.filter((v) => !column.elements?.includes(v));
      if (missing.length) problems.push(`${field}: enum values ${missing.join(',')} not in column elements`);
    }
    if (column.format === 'enum' && !s.enumValues && s.kind === 'string') {
      problems.push(`${field}: enum column needs a z.enum (a free string could be refused by Appwrite)`);
    }
  }
  for (const column of spec.columns) {
    if (column.required && !(column.key in shape))
      problems.push(`${column.key}: required column missing from rowSchema`);
  }
  return problems;
}

const withSchemas = allTables.filter((t) => t.rowSchema);
const withoutSchemas = allTables.filter((t) => !t.rowSchema);

describe('row schemas fit their declared columns', () => {
  it.each(withSchemas.map((t) => [t.$id, t] as const))('%s', (_id, spec) => {
    expect(rowSchemaProblems(spec)).toEqual([]);
  });

  for (const t of withoutSchemas) it.todo(`${t.$id}: declare a rowSchema on its TableSpec to check it`);

  it('catches an incompatible row schema (the check can fail)', () => {
    const spec: TableSpec = {
      $id: 'x',
      name: 'x',
      columns: [
        { key: 'n', type: 'integer', required: true },
        { key: 's', type: 'string', size: 5, required: true },
      ],
      indexes: [],
      rowSchema: z.object({ n: z.number(), extra: z.string() }),
    };
    expect(rowSchemaProblems(spec)).toEqual([
      'n: zod number vs column integer',
      'extra: not a declared column',
      's: required column missing from rowSchema',
    ]);
  });

  it('refuses a default on a required column and a string without size', () => {
    const bad = [
      { key: 'a', type: 'string', required: true, array: false, default: 'x', size: 3 },
      { key: 'b', type: 'string', required: false, array: false },
    ];
    expect(z.array(columnSchema).safeParse(bad).success).toBe(false);
  });
});
