import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * A deterministic `.tar.gz` of a folder's regular files (POSIX ustar, sorted paths, mtime 0, mode 0644, uid/gid
 * 0), so equal code gives equal bytes and the deploy script can skip unchanged code by its SHA-256. Paths are
 * relative to `root` (e.g. `dist/main.js`), at most 100 characters.
 */
export function tarGz(root: string, folders: readonly string[]): Buffer {
  const files: string[] = [];
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    if (statSync(abs).isDirectory()) {
      for (const entry of readdirSync(abs)) walk(path.posix.join(rel, entry));
    } else files.push(rel);
  };
  for (const folder of folders) walk(folder);
  files.sort();
  const blocks: Buffer[] = [];
  for (const rel of files) {
    const data = readFileSync(path.join(root, rel));
    blocks.push(header(rel, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

function header(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar path too long: ${name}`);
  const h = Buffer.alloc(512);
  const put = (value: string, offset: number, length: number) => h.write(value, offset, length, 'utf8');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0');
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\u0000', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8);
  return h;
}
