/**
 * The real appwrite-cli 12 against appwrite-local: `appwrite client` (endpoint, project, key) then
 * `appwrite push tables --all --force` from a temp directory holding an appwrite.json (the CLI prefers an
 * appwrite.config.json in any parent directory, so it must not run inside the repo). Checks the result through
 * the SDK, that a second push is a no-op, and that an added column and a removed table are synchronised.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAppwriteError, type LocalHarness, startHarness } from './appwrite-local-helpers.ts';
import { checkAgainstSpec } from './appwrite-local-openapi.ts';

const run = promisify(execFile);
const CLI = resolve('node_modules/.bin/appwrite');

let h: LocalHarness;
let home: string;
let project: string;

const table = (columns: object[]) => ({
  $id: 'jobs',
  $permissions: [],
  databaseId: 'main',
  name: 'jobs',
  enabled: true,
  rowSecurity: false,
  columns,
  indexes: [{ key: 'by_status', type: 'key', columns: ['status'], orders: ['ASC'] }],
});
const COLUMNS = [
  { key: 'status', type: 'string', required: true, array: false, size: 32, default: null },
  {
    key: 'kind',
    type: 'string',
    format: 'enum',
    elements: ['a', 'b'],
    required: false,
    array: false,
    default: 'a',
  },
  { key: 'attempts', type: 'integer', required: false, array: false, min: 0, max: 100, default: 0 },
  { key: 'score', type: 'double', required: false, array: false, min: -1e9, max: 1e9, default: null },
  { key: 'leaseUntil', type: 'datetime', format: 'datetime', required: false, array: false, default: null },
  { key: 'contact', type: 'string', format: 'email', required: false, array: false, default: null },
  { key: 'site', type: 'string', format: 'url', required: false, array: false, default: null },
  { key: 'ip', type: 'string', format: 'ip', required: false, array: false, default: null },
  { key: 'done', type: 'boolean', required: false, array: false, default: false },
];

function writeConfig(tables: object[]): void {
  writeFileSync(
    join(project, 'appwrite.json'),
    JSON.stringify(
      { projectId: 'proj1', tablesDB: [{ $id: 'main', name: 'main', enabled: true }], tables },
      null,
      4,
    ),
  );
}

async function appwrite(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(CLI, args, {
    cwd: project,
    env: { ...process.env, HOME: home, NO_COLOR: '1' },
    timeout: 120_000,
  });
  const out = stdout + stderr;
  if (/✗ Error|Error:/.test(out)) throw new Error(`appwrite ${args.join(' ')} failed:\n${out}`);
  return out;
}

beforeAll(async () => {
  h = await startHarness({ projectId: 'proj1', apiKey: 'cli-key' });
  home = mkdtempSync(join(tmpdir(), 'appwrite-local-cli-home-'));
  project = mkdtempSync(join(tmpdir(), 'appwrite-local-cli-project-'));
  writeConfig([table(COLUMNS)]);
  await appwrite('client', '--endpoint', h.server.endpoint, '--project-id', 'proj1', '--key', 'cli-key');
}, 120_000);

afterAll(async () => {
  await h?.server.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(project, { recursive: true, force: true });
});

describe('appwrite-cli 12 push tables', () => {
  it('creates the database, table, columns and index', async () => {
    const out = await appwrite('push', 'tables', '--all', '--force');
    expect(out).toContain('Successfully pushed 1 tables');
    const t = await h.tables.getTable({ databaseId: 'main', tableId: 'jobs' });
    expect(t.columns.map((c) => [c.key, c.type, c.status])).toEqual([
      ['status', 'string', 'available'],
      ['kind', 'string', 'available'],
      ['attempts', 'integer', 'available'],
      ['score', 'double', 'available'],
      ['leaseUntil', 'datetime', 'available'],
      ['contact', 'string', 'available'],
      ['site', 'string', 'available'],
      ['ip', 'string', 'available'],
      ['done', 'boolean', 'available'],
    ]);
    expect(t.columns.find((c) => c.key === 'kind')).toMatchObject({
      format: 'enum',
      elements: ['a', 'b'],
      default: 'a',
    });
    expect(t.columns.find((c) => c.key === 'attempts')).toMatchObject({ min: 0, max: 100, default: 0 });
    expect(t.indexes).toMatchObject([
      { key: 'by_status', type: 'key', columns: ['status'], orders: ['ASC'] },
    ]);
    // The pushed schema is usable.
    const row = await h.tables.createRow({
      databaseId: 'main',
      tableId: 'jobs',
      rowId: 'j1',
      data: { status: 'queued' },
    });
    expect(row).toMatchObject({ status: 'queued', kind: 'a', attempts: 0, done: false, leaseUntil: null });
  }, 120_000);

  it('finds nothing to change on a second push', async () => {
    const out = await appwrite('push', 'tables', '--all', '--force');
    expect(out).toContain('No changes found in tablesDB resource');
    expect(out).toContain('Successfully pushed 0 tables');
    expect((await h.tables.getRow({ databaseId: 'main', tableId: 'jobs', rowId: 'j1' })).status).toBe(
      'queued',
    );
  }, 120_000);

  it('adds a new column and deletes a table that left the config', async () => {
    await h.tables.createTable({ databaseId: 'main', tableId: 'stale', name: 'stale' });
    writeConfig([
      table([
        ...COLUMNS,
        { key: 'note', type: 'string', required: false, array: false, size: 200, default: null },
      ]),
    ]);
    await appwrite('push', 'tables', '--all', '--force');
    expect((await h.tables.getColumn({ databaseId: 'main', tableId: 'jobs', key: 'note' })).status).toBe(
      'available',
    );
    await expectAppwriteError(
      h.tables.getTable({ databaseId: 'main', tableId: 'stale' }),
      404,
      'table_not_found',
    );
    expect((await h.tables.getRow({ databaseId: 'main', tableId: 'jobs', rowId: 'j1' })).note).toBeNull();
  }, 120_000);

  it('updates a changed default in place and recreates a column whose size changed', async () => {
    const changed = COLUMNS.map((c) => (c.key === 'kind' ? { ...c, default: 'b' } : c));
    writeConfig([
      table([
        ...changed,
        { key: 'note', type: 'string', required: false, array: false, size: 100, default: null },
      ]),
    ]);
    await appwrite('push', 'tables', '--all', '--force');
    expect(await h.tables.getColumn({ databaseId: 'main', tableId: 'jobs', key: 'kind' })).toMatchObject({
      default: 'b',
    });
    expect(await h.tables.getColumn({ databaseId: 'main', tableId: 'jobs', key: 'note' })).toMatchObject({
      size: 100,
    });
    const patched = h.trace.filter(
      (e) => e.method === 'PATCH' && e.path === '/databases/main/collections/jobs/attributes/enum/kind',
    );
    expect(patched.map((e) => e.status)).toEqual([200]);
    expect(
      h.trace.some(
        (e) => e.method === 'DELETE' && e.path === '/databases/main/collections/jobs/attributes/note',
      ),
    ).toBe(true);
  }, 120_000);

  it('used only routes that answered without errors, with bodies matching the OpenAPI schemas', () => {
    const cliCalls = h.trace.filter((e) => !e.path.includes('/rows'));
    // 404s on GET …/tables/{t} are expected: the CLI probes for new tables and waits for deleted ones to go.
    const probe = (e: (typeof cliCalls)[number]) =>
      e.method === 'GET' && e.status === 404 && /^\/tablesdb\/main\/tables\/[^/]+$/.test(e.path);
    expect(cliCalls.filter((e) => e.status >= 400 && !probe(e))).toEqual([]);
    expect(cliCalls.some((e) => e.path === '/databases/main/collections/jobs/attributes/email')).toBe(true);
    expect(checkAgainstSpec(h.trace).problems).toEqual([]);
  });
});
