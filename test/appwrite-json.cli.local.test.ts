/**
 * The committed appwrite.json through the real appwrite-cli 12: `appwrite push tables --all --force` against
 * appwrite-local creates every declared table with every column and index, and a second push changes nothing.
 * This is what the zod check in appwrite-config.test.ts stands in for offline. Runs from a temp directory
 * (the CLI prefers an appwrite.config.json found in any parent directory, platform notes §B1).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { Client, TablesDB } from 'node-appwrite';
import { allTables, DATABASE_ID } from 'resilience-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const CLI = path.join(root, 'node_modules', '.bin', 'appwrite');
let server: AppwriteLocal;
let home: string;
let project: string;

async function appwrite(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(CLI, args, {
    cwd: project,
    env: { ...process.env, HOME: home, NO_COLOR: '1' },
    timeout: 170_000,
  });
  const out = stdout + stderr;
  if (/✗ Error|Error:/.test(out)) throw new Error(`appwrite ${args.join(' ')} failed:\n${out}`);
  return out;
}

beforeAll(async () => {
  server = await startAppwriteLocal({ port: 0, memory: true, projectId: 'cli', apiKey: 'cli-key' });
  home = mkdtempSync(path.join(tmpdir(), 'appwrite-json-cli-home-'));
  project = mkdtempSync(path.join(tmpdir(), 'appwrite-json-cli-project-'));
  // The tables part of the committed file, unchanged (functions need their folders and are deployed by
  // scripts/deploy.ts, since the CLI cannot create functions with only an API key).
  const committed = JSON.parse(readFileSync(path.join(root, 'appwrite.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  writeFileSync(
    path.join(project, 'appwrite.json'),
    JSON.stringify({ projectId: 'cli', tablesDB: committed.tablesDB, tables: committed.tables }, null, 4),
  );
  await appwrite('client', '--endpoint', server.endpoint, '--project-id', 'cli', '--key', 'cli-key');
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(project, { recursive: true, force: true });
});

describe('appwrite.json with appwrite-cli 12', () => {
  it('pushes every table, column and index', async () => {
    await appwrite('push', 'tables', '--all', '--force');
    const db = new TablesDB(new Client().setEndpoint(server.endpoint).setProject('cli').setKey('cli-key'));
    for (const spec of allTables) {
      const table = await db.getTable({ databaseId: DATABASE_ID, tableId: spec.$id });
      const columns = table.columns as unknown as { key: string }[];
      expect(columns.map((c) => c.key).sort(), spec.$id).toEqual(spec.columns.map((c) => c.key).sort());
      expect(table.indexes.map((i) => i.key).sort(), spec.$id).toEqual(spec.indexes.map((i) => i.key).sort());
    }
  }, 180_000);

  it('finds nothing to change on a second push', async () => {
    const out = await appwrite('push', 'tables', '--all', '--force');
    expect(out).toContain('Successfully pushed 0 tables');
  }, 180_000);
});
