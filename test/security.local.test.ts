/**
 * Security review (W5) of appwrite-local's deployment builds: an uploaded archive whose entries would land
 * outside the deployment's directory (`..` paths, links pointing out, writes through a symlink) is refused —
 * the build fails naming them — and nothing is written outside. Archives are built byte by byte here, since
 * the ordinary packers refuse to produce such entries.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputFile } from 'node-appwrite/file';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFunction, startServer, type TestServer } from './appwrite-local-functions-helpers.ts';

interface Entry {
  name: string;
  type?: 'file' | 'symlink' | 'dir';
  body?: string;
  link?: string;
}

/** One ustar header block. */
function header(entry: Entry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (value: string, at: number, len: number) => {
    h.write(value.slice(0, len), at, 'utf8');
  };
  const octal = (n: number, len: number) => `${n.toString(8).padStart(len - 1, '0')}\0`;
  put(entry.name, 0, 100);
  put(octal(entry.type === 'dir' ? 0o755 : 0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(Math.floor(Date.now() / 1000), 12), 136, 12);
  put('        ', 148, 8);
  h.write(entry.type === 'symlink' ? '2' : entry.type === 'dir' ? '5' : '0', 156, 'utf8');
  if (entry.link) put(entry.link, 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

/** A gzipped tar of `entries`, written as given (no path sanitising). */
function tarGz(entries: Entry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.type === 'file' || e.type === undefined ? (e.body ?? '') : '');
    blocks.push(header(e, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

const MAIN = { name: 'main.js', body: 'module.exports = async ({ res }) => res.json({ ok: true });\n' };

let s: TestServer;
let target: string;

beforeAll(async () => {
  s = await startServer();
  target = mkdtempSync(join(tmpdir(), 'w5-escape-target-'));
});

afterAll(async () => {
  await s?.stop();
  if (target) rmSync(target, { recursive: true, force: true });
});

async function build(functionId: string, entries: Entry[]) {
  await createFunction(s, functionId);
  const created = await s.functions.createDeployment({
    functionId,
    code: InputFile.fromBuffer(new Uint8Array(tarGz(entries)), 'code.tar.gz'),
    activate: false,
    entrypoint: 'main.js',
    commands: '',
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const d = await s.functions.getDeployment({ functionId, deploymentId: created.$id });
    if (d.status === 'ready' || d.status === 'failed') return d;
    if (Date.now() > deadline) throw new Error(`deployment still ${d.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const up = '../'.repeat(24);

describe('deployment archives cannot write outside the deployment directory', () => {
  it('guard: a clean archive builds', async () => {
    const d = await build('clean', [MAIN, { name: 'lib/', type: 'dir' }, { name: 'lib/a.js', body: '1' }]);
    expect(d.status).toBe('ready');
  });

  it('refuses a `..` path', async () => {
    const d = await build('dotdot', [MAIN, { name: `${up}${target.slice(1)}/dotdot.txt`, body: 'x' }]);
    expect(d.status).toBe('failed');
    expect(d.buildLogs).toMatch(/escape the deployment directory/);
    expect(readdirSync(target)).toEqual([]);
  });

  it('refuses a relative symlink pointing out, and the write through it', async () => {
    const d = await build('rel-link', [
      MAIN,
      { name: 'up', type: 'symlink', link: `${up}${target.slice(1)}` },
      { name: 'up/pwned.txt', body: 'x' },
    ]);
    expect(d.status).toBe('failed');
    expect(readdirSync(target)).toEqual([]);
  });

  it('never writes through an absolute symlink', async () => {
    const d = await build('abs-link', [
      MAIN,
      { name: 'out', type: 'symlink', link: target },
      { name: 'out/pwned.txt', body: 'x' },
    ]);
    // node-tar makes the absolute link relative (inside the deployment); the write through it is refused.
    expect(d.status).toBe('failed');
    expect(existsSync(join(target, 'pwned.txt'))).toBe(false);
    expect(readdirSync(target)).toEqual([]);
  });
});
