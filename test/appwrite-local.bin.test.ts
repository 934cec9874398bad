/**
 * The `appwrite-local` bin (Node 20, no build step): prints exactly one ready line, provisions appwrite.json,
 * keeps data in `--data DIR` across restarts (and not with `--memory`), stops cleanly on SIGTERM/SIGINT, and
 * refuses bad flags.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, TablesDB } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = resolve('packages/appwrite-local/bin/appwrite-local.mjs');
let dir: string;
let config: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'appwrite-local-bin-'));
  config = join(dir, 'appwrite.json');
  writeFileSync(
    config,
    JSON.stringify({
      projectId: 'binproj',
      tablesDB: [{ $id: 'app', name: 'App' }],
      tables: [
        {
          $id: 'notes',
          databaseId: 'app',
          name: 'Notes',
          columns: [{ key: 'text', type: 'string', size: 100, required: true }],
          indexes: [],
        },
      ],
      functions: [],
    }),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  endpoint: string;
  stdout: () => string;
  exit: Promise<number | null>;
}

async function startBin(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const endpoint = await new Promise<string>((res, rej) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^appwrite-local listening on (http:\/\/127\.0\.0\.1:\d+\/v1)\n/.exec(out);
      if (m) res(m[1] as string);
    });
    exit.then((code) => rej(new Error(`exited ${code} before ready: ${err}`)));
    setTimeout(() => rej(new Error(`not ready in 20 s: ${out} ${err}`)), 20_000);
  });
  return { child, endpoint, stdout: () => out, exit };
}

const tables = (endpoint: string, project = 'binproj') =>
  new TablesDB(new Client().setEndpoint(endpoint).setProject(project).setKey('bin-key'));

describe('appwrite-local bin', () => {
  it('serves the config-provisioned tables, keeps --data across a SIGTERM restart, and prints one line', async () => {
    const data = join(dir, 'data');
    const first = await startBin(['--port', '0', '--data', data, '--config', config, '--key', 'bin-key']);
    await tables(first.endpoint).createRow({
      databaseId: 'app',
      tableId: 'notes',
      rowId: 'n1',
      data: { text: 'kept' },
    });
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    expect(first.stdout().trim().split('\n')).toHaveLength(1);

    const second = await startBin(['--port', '0', '--data', data, '--config', config, '--key', 'bin-key']);
    expect(
      (await tables(second.endpoint).getRow({ databaseId: 'app', tableId: 'notes', rowId: 'n1' })).text,
    ).toBe('kept');
    expect((await tables(second.endpoint).listTables({ databaseId: 'app' })).total).toBe(1);
    second.child.kill('SIGINT');
    expect(await second.exit).toBe(0);
  }, 60_000);

  it('forgets everything with --memory', async () => {
    const first = await startBin(['--memory', '--config', config, '--key', 'bin-key', '--project', 'mem']);
    await tables(first.endpoint, 'mem').createRow({
      databaseId: 'app',
      tableId: 'notes',
      rowId: 'n1',
      data: { text: 'gone' },
    });
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    const second = await startBin(['--memory', '--config', config, '--key', 'bin-key', '--project', 'mem']);
    expect(
      (await tables(second.endpoint, 'mem').listRows({ databaseId: 'app', tableId: 'notes' })).total,
    ).toBe(0);
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  }, 60_000);

  it('delays every request by --latency ms (the benches inject their round-trip latency this way)', async () => {
    const server = await startBin(['--memory', '--config', config, '--key', 'bin-key', '--latency', '150']);
    try {
      const api = tables(server.endpoint);
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await api.listRows({ databaseId: 'app', tableId: 'notes' });
        // A lower bound only: a loaded machine may add time, never remove it.
        expect(performance.now() - t0).toBeGreaterThanOrEqual(149);
      }
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exit).toBe(0);
    }
  }, 60_000);

  it('compares ids case-insensitively by default and exactly with --collation binary', async () => {
    for (const [args, secondCreate] of [
      [[], 'refused'],
      [['--collation', 'binary'], 'created'],
    ] as const) {
      const server = await startBin([
        '--port',
        '0',
        '--memory',
        '--config',
        config,
        '--key',
        'bin-key',
        ...args,
      ]);
      try {
        const t = tables(server.endpoint);
        await t.createRow({ databaseId: 'app', tableId: 'notes', rowId: 'Note-1', data: { text: 'a' } });
        const outcome = await t
          .createRow({ databaseId: 'app', tableId: 'notes', rowId: 'note-1', data: { text: 'b' } })
          .then(
            () => 'created',
            (e: { type?: string }) => (e.type === 'row_already_exists' ? 'refused' : String(e)),
          );
        expect(outcome, args.join(' ') || 'default').toBe(secondCreate);
      } finally {
        server.child.kill('SIGTERM');
        expect(await server.exit).toBe(0);
      }
    }
  }, 60_000);

  it('refuses bad flags with exit code 2', async () => {
    for (const args of [
      ['--port', '0'],
      ['--key', 'k', '--data', dir, '--memory'],
      ['--key', 'k', '--port', 'x'],
      ['--key', 'k', '--bogus'],
      ['--key', 'k', '--latency', 'abc'],
      ['--key', 'k', '--latency=-5'],
      ['--key', 'k', '--collation', 'latin1'],
    ]) {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' });
      expect(await new Promise((res) => child.on('exit', res)), args.join(' ')).toBe(2);
    }
  }, 60_000);
});
