/**
 * Scenario steps of the background jobs (issue 6): the "202 + status URL" pattern end to end on the deployed
 * functions. create-recognition queues a CSV export and answers 202 at once; the job-queue row's create event
 * triggers job-worker, which claims and runs the job; the status route shows it COMPLETED and the export
 * downloads as CSV. Nothing is nudged by hand: if the event trigger does not drain the queue, the step fails.
 */
import { Functions, Query } from 'node-appwrite';
import { check, type ScenarioContext, type ScenarioStep } from './scenario-context.ts';
import { expectStatus, truncate, waitFor } from './scenario-support.ts';

/** How long the worker may take to finish the export (event delivery + cold start + the job itself), ms. */
const EXPORT_DEADLINE_MS = 20_000;

interface JobStatusView {
  jobId: string;
  status: string;
  attempts: number;
  lastError: string | null;
  result: { rows?: number } | null;
  enqueuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  checkStatusAt: string;
}

interface AcceptedView {
  jobId: string;
  status: string;
  deduplicated: boolean;
  checkStatusAt: string;
}

async function jobStatus(ctx: ScenarioContext, userId: string, path: string): Promise<JobStatusView> {
  const r = await ctx.executeAsUser(userId, 'create-recognition', { path });
  expectStatus(r, 200, `GET ${path}`);
  return r.body as JobStatusView;
}

/** POST /exports → 202; the event-triggered worker completes it; GET /exports/:id returns the CSV. */
const exportStep: ScenarioStep = {
  name: 'a CSV export runs in the background (202, job-worker on the job-create event, COMPLETED)',
  async run(ctx) {
    const { orgId, aliceId } = ctx.state;
    check(orgId && aliceId, 'needs the organization step');
    const body = { orgId, idempotencyKey: `scenario-export-${ctx.runId}` };
    const sentAt = Date.now();
    // Alice asks as herself (a member of the org); the export is charged to exports_per_day.
    const accepted = await ctx.executeAsUser(aliceId, 'create-recognition', {
      path: '/exports',
      method: 'POST',
      body,
    });
    expectStatus(accepted, 202, 'POST /exports');
    const job = accepted.body as AcceptedView;
    check(job.jobId, `no jobId in the 202 answer: ${JSON.stringify(job)}`);
    check(
      job.checkStatusAt === `/status/${encodeURIComponent(job.jobId)}`,
      `checkStatusAt is ${job.checkStatusAt}, expected /status/${job.jobId}`,
    );

    // The same idempotency key does not queue a second export (and does not charge the quota twice).
    const again = await ctx.executeAsUser(aliceId, 'create-recognition', {
      path: '/exports',
      method: 'POST',
      body,
    });
    expectStatus(again, 202, 'POST /exports again with the same idempotencyKey');
    const repeat = again.body as AcceptedView;
    check(
      repeat.jobId === job.jobId && repeat.deduplicated,
      `a repeated idempotencyKey gave ${JSON.stringify(repeat)}, expected the same job, deduplicated`,
    );

    let last: JobStatusView | undefined;
    const done = await waitFor(
      `job ${job.jobId} to finish`,
      async () => {
        last = await jobStatus(ctx, aliceId, job.checkStatusAt);
        if (['FAILED', 'DEAD_LETTER', 'CANCELLED'].includes(last.status)) {
          throw new Error(`export job ended ${last.status}: ${last.lastError ?? 'no error recorded'}`);
        }
        return last.status === 'COMPLETED' ? last : undefined;
      },
      {
        timeoutMs: EXPORT_DEADLINE_MS,
        intervalMs: 200,
        detail: () => `last status ${last?.status ?? 'unknown'}, attempts ${last?.attempts ?? 0}`,
      },
    );
    const tookMs = Date.now() - sentAt;

    // Which execution drained it: job-worker runs on every job-queue row create event.
    const executions = await new Functions(ctx.client).listExecutions({
      functionId: 'job-worker',
      queries: [Query.equal('trigger', 'event'), Query.orderDesc('$createdAt'), Query.limit(5)],
    });
    const triggered = executions.executions.filter((e) => Date.parse(e.$createdAt) >= sentAt - 50);
    check(
      triggered.length > 0,
      'job-worker has no event-triggered execution since the export was queued: the job-create event did not fire',
    );

    const file = await ctx.executeAsUser(aliceId, 'create-recognition', {
      path: `/exports/${job.jobId}?orgId=${orgId}`,
    });
    expectStatus(file, 200, `GET /exports/${job.jobId}?orgId=${orgId}`);
    const { csv, rowCount } = file.body as { csv: string; rowCount: number };
    const lines = csv.trimEnd().split(/\r?\n/);
    check(
      lines.length === rowCount + 1,
      `the CSV has ${lines.length} lines for rowCount ${rowCount}: ${truncate(csv, 200)}`,
    );
    check(rowCount >= 1, `the export of ${orgId} is empty; the recognition step's row is missing`);
    check(
      done.result?.rows === rowCount,
      `the job result says ${done.result?.rows} rows, the file ${rowCount}`,
    );
    ctx.state.exportJobId = job.jobId;
    return [
      `POST /exports → 202 ${job.checkStatusAt} (repeat: same job, deduplicated);`,
      `job-worker (event trigger) finished it in ${tookMs} ms, attempt ${done.attempts}: COMPLETED;`,
      `CSV ${rowCount} row(s) + header [${lines[0]}]`,
    ].join('\n      ');
  },
};

/** The job steps `npm start` runs (spread into scripts/scenario.ts). */
export const jobsSteps: ScenarioStep[] = [exportStep];
