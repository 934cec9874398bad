import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AppwriteLocal } from 'appwrite-local';
import { build } from 'esbuild';
import { hasCode, listAll } from 'resilience-core';
import {
  createJobQueue,
  createSchedule,
  createWorker,
  type DrainReport,
  JOB_TABLES,
  type Lease,
  productJobTypes,
  readHistory,
  tickSchedules,
} from 'resilience-core/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit, startJobsServer, storeFor } from './jobs-local-helpers.ts';

const ORG = 'org-local';
let server: AppwriteLocal;

let bundles: string;

beforeAll(async () => {
  server = await startJobsServer();
  // The worker processes run as plain node on a bundle (no TypeScript loader to start), like a function would.
  bundles = mkdtempSync(join(tmpdir(), 'jobs-children-'));
  await build({
    entryPoints: ['jobs-drain-child.ts', 'jobs-worker-child.ts'].map((f) =>
      fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url)),
    ),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: bundles,
    outExtension: { '.js': '.mjs' },
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('job queue against the local Appwrite server', () => {
  it('2,000 jobs and 8 worker processes: every job completed exactly once, none lost', async () => {
    const producer = createJobQueue({ store: storeFor(server), types: productJobTypes });
    const jobIds = await mapLimit(
      Array.from({ length: 2000 }, (_, i) => i),
      16,
      async (i) =>
        (
          await producer.enqueue({
            orgId: ORG,
            type: 'send-notification',
            payload: { channel: 'slack', text: `job ${i}` },
            priority: i % 3,
          })
        ).jobId,
    );
    expect(new Set(jobIds).size).toBe(2000);

    const started = Date.now();
    const outputs = await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        const child = spawnScript('jobs-drain-child.ts', [`w${w}`]);
        const line = await firstJsonLine(child, 110_000);
        return line as { report: DrainReport; ran: string[] };
      }),
    );
    const elapsed = Date.now() - started;

    const ran = outputs.flatMap((o) => o.ran);
    const byJob = new Map<string, number>();
    for (const id of ran) byJob.set(id, (byJob.get(id) ?? 0) + 1);
    expect([...byJob.entries()].filter(([, n]) => n !== 1)).toEqual([]); // no job ran twice
    expect(byJob.size).toBe(2000); // none lost
    expect(outputs.reduce((n, o) => n + o.report.completed, 0)).toBe(2000);
    expect(outputs.reduce((n, o) => n + o.report.leaseLost, 0)).toBe(0);
    expect(outputs.filter((o) => o.report.completed > 0).length).toBeGreaterThan(1); // the work was shared

    const rows = await listAll(storeFor(server), JOB_TABLES.queue, {
      where: [{ field: 'orgId', op: 'eq', value: ORG }],
    });
    expect(rows).toHaveLength(2000);
    const owner = new Map(outputs.flatMap((o) => o.ran.map((id) => [id, o.report.workerId] as const)));
    for (const row of rows) {
      expect(row.status).toBe('COMPLETED');
      expect(row.attempts).toBe(1);
      expect(readHistory(row as unknown as { history: string }).map((h) => h.outcome)).toEqual(['COMPLETED']);
      expect(JSON.parse(row.result as string)).toEqual({ by: owner.get(row.$id) });
    }
    const conflicts = outputs.reduce((n, o) => n + o.report.claimConflicts, 0);
    const longest = Math.max(...outputs.map((o) => o.report.durationMs));
    console.log(
      `8 worker processes drained 2000 jobs in ${elapsed} ms (spawn included; longest drain ${longest} ms); claim conflicts ${conflicts}`,
    );
  }, 120_000);

  it('a worker killed with SIGKILL mid-job: the job is retried after its lease expires and completes; the late completion is refused', async () => {
    const store = storeFor(server);
    const queue = createJobQueue({ store, types: productJobTypes });
    const { jobId } = await queue.enqueue({
      orgId: 'org-kill',
      type: 'send-notification',
      payload: { channel: 'teams', text: 'hello' },
      leaseMs: 2000,
      priority: -1000, // ahead of anything else left in the shared server
    });

    const child = spawnScript('jobs-worker-child.ts');
    let killedLease: Lease;
    try {
      killedLease = (await firstJsonLine(child)).lease as Lease;
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise<void>((resolve) =>
      child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
    expect(child.signalCode).toBe('SIGKILL');
    expect(killedLease.job.$id).toBe(jobId);
    expect(await queue.get(jobId)).toMatchObject({ status: 'PROCESSING', attempts: 1 });

    // Before the lease expires nobody else may take the job.
    const rescuer = createWorker({ queue, workerId: 'rescuer', lanes: 1, batchSize: 1, recoverEveryMs: 0 });
    let rescued = 0;
    rescuer.registerHandler('send-notification', async () => {
      rescued++;
      return 'delivered';
    });
    expect(
      (await queue.recoverExpired({ workerId: 'early', limit: 10 })).map((l) => l.job.$id),
    ).not.toContain(jobId);

    // The child may have heartbeated before it died: wait for the lease as stored, not as first claimed.
    const leaseEnd = (await queue.get(jobId))?.leaseExpiresAt ?? killedLease.expiresAt;
    await new Promise((r) => setTimeout(r, Math.max(0, leaseEnd - Date.now()) + 100));
    const report = await rescuer.drain({ deadlineAt: Date.now() + 60_000 });
    expect(report.recovered).toBe(1);
    expect(rescued).toBe(1);
    const job = await queue.get(jobId);
    expect(job).toMatchObject({ status: 'COMPLETED', attempts: 2, result: '"delivered"' });
    expect(readHistory(job!).map((h) => [h.outcome, h.owner])).toEqual([
      ['LEASE_EXPIRED', killedLease.workerId],
      ['COMPLETED', 'rescuer'],
    ]);

    // The killed worker's lease, used late (as a restarted process or a delayed request would): refused.
    const late = await queue.complete(killedLease, 'late').catch((e: unknown) => e);
    expect(hasCode(late, 'LEASE_LOST')).toBe(true);
    const lateFail = await queue.fail(killedLease, new Error('late')).catch((e: unknown) => e);
    expect(hasCode(lateFail, 'LEASE_LOST')).toBe(true);
    expect(await queue.get(jobId)).toMatchObject({
      status: 'COMPLETED',
      result: '"delivered"',
      version: job!.version,
    });
  }, 60_000);

  it('a worker holding 120 leases is SIGKILLed: ONE fresh drain after the leases expired recovers and completes all of them, each exactly once', async () => {
    const store = storeFor(server);
    const queue = createJobQueue({ store, types: productJobTypes });
    const N = 120;
    const jobIds = await mapLimit(
      Array.from({ length: N }, (_, i) => i),
      16,
      async (i) =>
        (
          await queue.enqueue({
            orgId: 'org-crash',
            type: 'send-notification',
            payload: { channel: 'slack', text: `crash ${i}` },
            leaseMs: 2000,
            priority: -1000, // ahead of anything else left in the shared server
          })
        ).jobId,
    );

    const child = spawnScript('jobs-worker-child.ts', [String(N)]);
    let held: Lease[];
    try {
      held = (await firstJsonLine(child, 60_000)).leases as Lease[];
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise<void>((resolve) =>
      child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
    expect(child.signalCode).toBe('SIGKILL');
    expect(new Set(held.map((l) => l.job.$id))).toEqual(new Set(jobIds));
    const dead = held[0]!.workerId;
    const before = await listAll(store, JOB_TABLES.queue, {
      where: [{ field: 'orgId', op: 'eq', value: 'org-crash' }],
    });
    expect(before.map((r) => [r.status, r.leaseOwner])).toEqual(jobIds.map(() => ['PROCESSING', dead]));

    // Wait until every lease has ended, then ONE drain with the shipped defaults (recoverEveryMs 5 s).
    const leaseEnd = Math.max(...before.map((r) => Number(r.leaseExpiresAt)));
    await new Promise((r) => setTimeout(r, Math.max(0, leaseEnd - Date.now()) + 100));
    const rescuer = createWorker({ queue, workerId: 'rescuer-all' });
    const ran = new Map<string, number>();
    rescuer.registerHandler('send-notification', async (_payload, ctx) => {
      ran.set(ctx.jobId, (ran.get(ctx.jobId) ?? 0) + 1);
      return 'delivered';
    });
    const report = await rescuer.drain({ deadlineAt: Date.now() + 60_000 });
    expect(report).toMatchObject({ recovered: N, completed: N, leaseLost: 0, stoppedBy: 'idle' });
    expect(ran.size).toBe(N);
    expect([...ran.values()].every((n) => n === 1)).toBe(true);
    const after = await listAll(store, JOB_TABLES.queue, {
      where: [{ field: 'orgId', op: 'eq', value: 'org-crash' }],
    });
    for (const row of after) {
      expect(row).toMatchObject({ status: 'COMPLETED', attempts: 2, leaseOwner: null });
      expect(readHistory(row as unknown as { history: string }).map((h) => [h.outcome, h.owner])).toEqual([
        ['LEASE_EXPIRED', dead],
        ['COMPLETED', 'rescuer-all'],
      ]);
    }
    // Nothing expired is left for the next drain.
    expect(await queue.recoverExpired({ workerId: 'after', limit: 50 })).toEqual([]);
  }, 120_000);

  it('five workers ticking the same minute materialise one run of a schedule', async () => {
    const queues = Array.from({ length: 5 }, () =>
      createJobQueue({ store: storeFor(server), types: productJobTypes }),
    );
    const schedule = await createSchedule(queues[0]!, {
      orgId: 'org-sched',
      name: 'minutely',
      cron: '* * * * *',
      type: 'cleanup-recognitions',
      payload: { daysOld: 30 },
    });
    const minute = Math.floor(Date.now() / 60_000) * 60_000 + 60_000;
    const reports = await Promise.all(queues.map((q) => tickSchedules(q, minute + 1500)));
    expect(reports.reduce((n, r) => n + r.materialised, 0)).toBe(1);
    expect(reports.reduce((n, r) => n + r.alreadyMaterialised, 0)).toBeLessThanOrEqual(4);
    const jobs = await listAll(storeFor(server), JOB_TABLES.queue, {
      where: [{ field: 'scheduleId', op: 'eq', value: schedule.$id }],
    });
    expect(jobs.map((j) => j.runAt)).toEqual([minute]);
    // The next tick of the same minute adds nothing.
    expect((await tickSchedules(queues[1]!, minute + 30_000)).materialised).toBe(0);
  });
});

function spawnScript(name: string, args: string[] = []): ChildProcess {
  const script = join(bundles, name.replace(/\.ts$/, '.mjs'));
  return spawn(process.execPath, [script, server.endpoint, server.projectId, server.apiKey, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function firstJsonLine(child: ChildProcess, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`child printed nothing within ${timeoutMs} ms`)),
      timeoutMs,
    );
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
    // 'close' comes after every 'line' of the child's stdout, so a line printed just before exit still counts.
    lines.once('close', () =>
      reject(new Error(`child ended (exit ${child.exitCode}) without printing a line`)),
    );
  });
}
