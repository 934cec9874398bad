/**
 * `npm start` end to end (scripts/start.ts --memory --once --no-build): the server starts, provisions
 * appwrite.json, deploys every built function bundle, and the whole scripted scenario passes — every step of
 * scripts/scenario.ts (circuit breaker, jobs, quotas and a blue-green rollout included; ~25 s). Needs the
 * function bundles (functions/<name>/dist), which `npm test` builds first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { scenarioSteps } from '../scripts/scenario.ts';

const root = join(import.meta.dirname, '..');
const config = JSON.parse(readFileSync(join(root, 'appwrite.json'), 'utf8')) as {
  functions: { $id: string; path: string }[];
};
const built = config.functions.every((f) => existsSync(join(root, f.path, 'dist', 'main.js')));

it('deploys every function of appwrite.json and passes the scenario', () => {
  expect(built, 'function bundles are missing: run `npm run build` first').toBe(true);
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/start.ts', '--memory', '--once', '--no-build'],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  const output = `${run.stdout}\n${run.stderr}`;
  expect(run.status, output).toBe(0);
  for (const fn of config.functions)
    expect(output).toMatch(new RegExp(`✓ ${fn.$id}: deployment \\w+ active`));
  expect(output).toContain(`Scenario: ${scenarioSteps.length} passed, 0 failed.`);
  expect(output).not.toContain('✗');
  // Every step ran and passed: health, org, recognition, circuit breaker, jobs, quotas, blue-green.
  for (const step of scenarioSteps) expect(output).toContain(`✓ ${step.name} (`);
  expect(scenarioSteps.length).toBeGreaterThanOrEqual(8);
}, 150_000);
