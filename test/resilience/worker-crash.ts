/**
 * Crash a worker holding leases: a real job-worker process (crash-worker-child.ts) completes some jobs, then
 * hangs with every lane holding a batch of leases, and is SIGKILLed. Once its leases have expired, ONE drain of
 * a fresh worker must finish the queue (issue 11.1): every job completed exactly once — none lost, none that
 * the dead worker completed run again, each of the others run once by the rescuer — and the jobs the dead
 * worker held recovered in that one drain, with their history showing the expired lease.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { listAll } from 'resilience-core';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { createJobQueue, createWorker, JOB_TABLES, productJobTypes, readHistory } from 'resilience-core/jobs';
import type { System } from './system.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** What the crash scenario measured. */
export interface CrashFigures {
  jobs: number;
  completedBeforeKill: number;
  /** PROCESSING rows (leases) the dead worker held when it was killed. */
  leasesHeldAtKill: number;
  /** Expired leases the one rescuing drain took over. */
  recoveredInOneDrain: number;
  rescuerRuns: number;
  ranTwice: number;
  lost: number;
  /** From the kill to the end of the rescuing drain, ms (lease expiry included). */
  recoveryMs: number;
}

function spawnChild(system: System, lanes: number, batch: number, completeFirst: number): ChildProcess {
  // `node --import tsx` (not the tsx launcher, whose grandchild a SIGKILL would miss).
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'test', 'resilience', 'crash-worker-child.ts'),
      system.server.endpoint,
      system.server.projectId,
      system.server.apiKey,
      String(lanes),
      String(batch),
      String(completeFirst),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
}

/** Runs the scenario on `system`'s server with its own org (so other scenarios' jobs do not mix in). */
export async function runWorkerCrash(
  system: System,
  options: { jobs: number; lanes: number; batch: number; completeFirst: number; leaseMs: number },
): Promise<{ figures: CrashFigures; violations: string[] }> {
  const orgId = `crash-${Date.now().toString(36)}`;
  const store = createAppwriteTableStore({
    endpoint: system.server.endpoint,
    projectId: system.server.projectId,
    key: system.server.apiKey,
  });
  const queue = createJobQueue({ store, types: productJobTypes });
  const ids: string[] = [];
  for (let i = 0; i < options.jobs; i++) {
    const { jobId } = await queue.enqueue({
      orgId,
      type: 'send-notification',
      payload: { channel: 'slack', text: `crash ${i}` },
      leaseMs: options.leaseMs,
      // Ahead of anything else due on the shared server.
      priority: -1000,
    });
    ids.push(jobId);
  }

  const child = spawnChild(system, options.lanes, options.batch, options.completeFirst);
  const done = new Set<string>();
  const hanging = new Set<string>();
  let workerId = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the doomed worker never held its leases')), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { workerId?: string; done?: string; hang?: string };
      if (m.workerId) workerId = m.workerId;
      if (m.done) done.add(m.done);
      if (m.hang) hanging.add(m.hang);
      // Every lane is stuck in a handler: the process holds its leases.
      if (hanging.size >= options.lanes) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`the doomed worker exited early (${code})`)));
  });
  child.kill('SIGKILL');
  await new Promise<void>((resolve) =>
    child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
  );
  const killedAt = Date.now();

  const mine = async () =>
    listAll(store, JOB_TABLES.queue, { where: [{ field: 'orgId', op: 'eq', value: orgId }] });
  const atKill = await mine();
  const held = atKill.filter((j) => j.status === 'PROCESSING');
  const leaseEnd = Math.max(...held.map((j) => Number(j.leaseExpiresAt ?? 0)), 0);
  await new Promise((r) => setTimeout(r, Math.max(0, leaseEnd - Date.now()) + 150));

  const rescuer = createWorker({
    queue,
    workerId: 'rescuer',
    lanes: options.lanes,
    batchSize: options.batch,
  });
  const runs = new Map<string, number>();
  rescuer.registerHandler('send-notification', async (_payload, ctx) => {
    runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
    return { by: 'rescuer' };
  });
  const report = await rescuer.drain({ deadlineAt: Date.now() + 60_000 });
  const recoveryMs = Date.now() - killedAt;

  const after = await mine();
  const violations: string[] = [];
  const byId = new Map(after.map((j) => [j.$id, j]));
  const lost = ids.filter((id) => byId.get(id)?.status !== 'COMPLETED');
  if (lost.length)
    violations.push(`${lost.length} jobs not completed after one drain: ${lost.slice(0, 5).join(', ')}`);
  const ranTwice = [...runs.entries()].filter(([id, n]) => n > 1 || done.has(id));
  if (ranTwice.length)
    violations.push(
      `${ranTwice.length} jobs ran twice: ${ranTwice
        .slice(0, 5)
        .map(([id]) => id)
        .join(', ')}`,
    );
  for (const id of ids) {
    const job = byId.get(id);
    if (job?.status !== 'COMPLETED') continue;
    const by = JSON.parse(String(job.result)) as { by: string };
    const expected = done.has(id) ? workerId : 'rescuer';
    if (by.by !== expected) violations.push(`${id} completed by ${by.by}, expected ${expected}`);
  }
  for (const h of held) {
    // Jobs still not completed are reported above.
    if (byId.get(h.$id)?.status !== 'COMPLETED') continue;
    const outcomes = readHistory(byId.get(h.$id) as unknown as { history: string }).map((e) => e.outcome);
    if (outcomes[0] !== 'LEASE_EXPIRED' || outcomes.at(-1) !== 'COMPLETED') {
      violations.push(`${h.$id} history ${outcomes.join(' → ')}, expected LEASE_EXPIRED … COMPLETED`);
    }
  }
  if (report.recovered !== held.length) {
    violations.push(`one drain recovered ${report.recovered} of the ${held.length} expired leases`);
  }
  if (report.stoppedBy !== 'idle') violations.push(`the rescuing drain stopped by ${report.stoppedBy}`);
  return {
    figures: {
      jobs: ids.length,
      completedBeforeKill: done.size,
      leasesHeldAtKill: held.length,
      recoveredInOneDrain: report.recovered,
      rescuerRuns: [...runs.values()].reduce((a, b) => a + b, 0),
      ranTwice: ranTwice.length,
      lost: lost.length,
      recoveryMs,
    },
    violations,
  };
}
