/**
 * Writes appwrite.json from scripts/appwrite-config.ts (functions) and resilience-core's `allTables`.
 * `npx tsx scripts/gen-appwrite-json.ts` after adding or changing a table or a function; `--check` exits 1 when
 * the committed file is stale (the test does the same).
 *
 * File name: appwrite.json, as the issue asks. appwrite-cli 12 prefers appwrite.config.json when both exist
 * in this or any parent folder (platform notes §B1), so keep no appwrite.config.json above the repo.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderAppwriteJson } from './appwrite-config.ts';

/**
 * Where the generated file lives: the repository root. Not exported: importing this script would write the
 * file (it runs at load); tests read appwrite.json themselves.
 */
const APPWRITE_JSON = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'appwrite.json');

const text = renderAppwriteJson();
if (process.argv.includes('--check')) {
  // Compared as data: the committed file is formatted by biome, the rendered text is not.
  const current = existsSync(APPWRITE_JSON) ? readFileSync(APPWRITE_JSON, 'utf8') : '{}';
  if (JSON.stringify(JSON.parse(current)) !== JSON.stringify(JSON.parse(text))) {
    console.error('appwrite.json is stale: run `npx tsx scripts/gen-appwrite-json.ts`');
    process.exit(1);
  }
  console.log('appwrite.json is up to date');
} else {
  writeFileSync(APPWRITE_JSON, text);
  // Keep the committed file lint-clean (`npm run lint` checks JSON formatting too).
  execFileSync('npx', ['biome', 'format', '--write', APPWRITE_JSON], { stdio: 'ignore' });
  console.log(`wrote ${path.relative(process.cwd(), APPWRITE_JSON) || 'appwrite.json'}`);
}
