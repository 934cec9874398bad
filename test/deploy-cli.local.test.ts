/**
 * `npm run rollout` end to end: the command as a child process against the local Appwrite server, including a
 * SIGKILL in the middle of the switch and the next run converging.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLiveWithTwin,
  type DeployServer,
  DEPLOY_FIXTURES as FIXTURES,
  startDeployServer,
  waitForLockLeaseEnd,
} from './deploy-helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

let s: DeployServer;

const POLICY_FLAGS = [
  '--watch-ms=3000',
  '--interval-ms=1000',
  '--min-samples=5',
  '--lock-ttl-ms=2500',
  '--build-timeout-ms=30000',
  '--build-poll-max-ms=500',
];

function rollout(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; out: string }>;
} {
  // `node --import tsx` rather than the tsx launcher, which runs the script in a grandchild a SIGKILL would miss.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'scripts', 'rollout.ts'), ...args],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        APPWRITE_ENDPOINT: s.server.endpoint,
        APPWRITE_PROJECT_ID: s.server.projectId,
        APPWRITE_API_KEY: s.server.apiKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  child.stderr!.on('data', (d) => {
    out += String(d);
  });
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, out })),
  );
  return { child, done };
}

beforeAll(async () => {
  s = await startDeployServer();
}, 60_000);

afterAll(async () => {
  await s?.server.stop();
});

describe('npm run rollout', () => {
  it('prints live progress, a verdict, and one API call for the switch', async () => {
    await createLiveWithTwin(s, 'cli-good');
    const dirArg = `--dir=${path.join(FIXTURES, 'good')}`;
    const { code, out } = await rollout([
      'start',
      'cli-good',
      dirArg,
      '--entrypoint=index.js',
      ...POLICY_FLAGS,
    ]).done;
    expect(out).toMatch(/building\s+building green/);
    expect(out).toMatch(/VERDICT: SUCCEEDED — green \S+ is active on cli-good/);
    expect(out).toMatch(/switch: {3}1 API call \(updateFunctionDeployment\), \d+ ms/);
    expect(code).toBe(0);
  });

  it('rolls back an erroring version with one API call and exits 1', async () => {
    const blue = await createLiveWithTwin(s, 'cli-err');
    const dirArg = `--dir=${path.join(FIXTURES, 'errors-after-switch')}`;
    const { code, out } = await rollout([
      'start',
      'cli-err',
      dirArg,
      '--entrypoint=index.js',
      ...POLICY_FLAGS,
    ]).done;
    expect(out).toContain(`VERDICT: ROLLED BACK — blue ${blue} is active again`);
    expect(out).toMatch(/rollback: 1 API call \(updateFunctionDeployment\), \d+ ms/);
    expect(code).toBe(1);
  });

  it('refuses bad thresholds before anything changes (exit 2)', async () => {
    await createLiveWithTwin(s, 'cli-bad');
    const dirArg = `--dir=${path.join(FIXTURES, 'good')}`;
    const { code, out } = await rollout([
      'start',
      'cli-bad',
      dirArg,
      '--entrypoint=index.js',
      '--max-error-rate=3',
    ]).done;
    expect(out).toMatch(/refused \(INVALID_INPUT\): invalid rollout policy\n\s+- policy.maxErrorRate/);
    expect(code).toBe(2);
    expect((await s.functions.listDeployments({ functionId: 'cli-bad' })).deployments).toHaveLength(1);
  });

  it('a rollout killed (SIGKILL) mid-switch converges on the next run', async () => {
    await createLiveWithTwin(s, 'cli-kill');
    const dirArg = `--dir=${path.join(FIXTURES, 'good')}`;
    const first = rollout(['start', 'cli-kill', dirArg, '--entrypoint=index.js', ...POLICY_FLAGS]);
    let seen = '';
    await new Promise<void>((resolve) => {
      first.child.stdout!.on('data', (d) => {
        seen += String(d);
        if (/switching traffic to green/.test(seen)) {
          first.child.kill('SIGKILL');
          resolve();
        }
      });
      first.child.on('exit', () => resolve());
    });
    const killed = await first.done;
    expect(killed.out).toMatch(/switching traffic to green/);
    expect(killed.code).toBeNull();
    expect(killed.out).not.toMatch(/VERDICT/);
    const store = createAppwriteTableStore({
      endpoint: s.server.endpoint,
      projectId: s.server.projectId,
      key: s.server.apiKey,
    });
    await waitForLockLeaseEnd(store, 'cli-kill'); // the dead run's lease (2.5 s) ends
    const { code, out } = await rollout(['resume', 'cli-kill', ...POLICY_FLAGS]).done;
    // Killed on the "switching" line; on a loaded machine the signal may land just after the next write.
    expect(out).toMatch(/resumes the rollout at (switching|watching)/);
    expect(out).toMatch(/VERDICT: SUCCEEDED/);
    expect(code).toBe(0);
    const history = await rollout(['history', 'cli-kill']).done;
    expect(history.out).toMatch(/succeeded/);
  }, 60_000);
});
