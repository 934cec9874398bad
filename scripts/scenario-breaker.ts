/**
 * Scenario step of the circuit breaker (issue 4), on the deployed functions: Slack goes down, recognitions keep
 * succeeding while the `slack` breaker opens and their notifications are deferred to `send-notification` jobs;
 * Slack comes back, an operator closes the breaker, and job-worker delivers every deferred message.
 *
 * "Slack" is a webhook server this step starts on 127.0.0.1 (port 0) and points the function variable
 * `NOTIFY_SLACK_WEBHOOK_URL` of create-recognition and job-worker at (a variable change replaces the warm
 * processes, as on Appwrite). The slack preset keeps a breaker open for 30 s; rather than wait, the step closes
 * it with the key-only `POST /circuit-breakers/slack/reset` route, as an operator who knows the outage is over
 * would. job-worker normally drains on the job-create event and every minute; the step stands in for the
 * minute cron with the key-only `POST /` drain, so the retries due after the outage run within seconds.
 * The variables are removed and the server stopped when the step ends, pass or fail.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Functions, ID, Query } from 'node-appwrite';
import { check, type ScenarioContext, type ScenarioStep } from './scenario-context.ts';
import { countBy, expectStatus, listJobs, waitFor } from './scenario-support.ts';

/** The variable both functions read their Slack webhook from (resilience-core `webhooksFromEnv`). */
const SLACK_VARIABLE = 'NOTIFY_SLACK_WEBHOOK_URL';
/** Recognitions created at most while waiting for the breaker to open (the slack preset needs 5 calls). */
const MAX_TO_OPEN = 10;
/** Recognitions created once it is open: these must be deferred without calling Slack. */
const WHILE_OPEN = 3;
/** How long the worker may take to deliver the deferred messages after the outage, ms. */
const DELIVERY_DEADLINE_MS = 25_000;

/** A stand-in Slack incoming webhook: 503 while `healthy` is false, 200 and recorded otherwise. */
interface FakeSlack {
  url: string;
  healthy: boolean;
  /** Requests answered 503. */
  refused: number;
  /** Message texts accepted (200). */
  delivered: string[];
  close(): Promise<void>;
}

async function startFakeSlack(): Promise<FakeSlack> {
  const state = { healthy: false, refused: 0, delivered: [] as string[] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!state.healthy) {
        state.refused++;
        res.writeHead(503, { 'content-type': 'text/plain' }).end('slack is down (scenario)');
        return;
      }
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text?: unknown };
        state.delivered.push(String(body.text ?? ''));
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/services/scenario`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Sets (creates or updates) a plain function variable. */
async function setVariable(ctx: ScenarioContext, functionId: string, key: string, value: string) {
  const functions = new Functions(ctx.client);
  const existing = await functions.listVariables({ functionId, queries: [Query.equal('key', key)] });
  const found = existing.variables.find((v) => v.key === key);
  if (found) await functions.updateVariable({ functionId, variableId: found.$id, key, value });
  else await functions.createVariable({ functionId, variableId: ID.unique(), key, value, secret: false });
}

/** Removes a function variable if it exists. */
async function removeVariable(ctx: ScenarioContext, functionId: string, key: string) {
  const functions = new Functions(ctx.client);
  const existing = await functions.listVariables({ functionId, queries: [Query.equal('key', key)] });
  for (const v of existing.variables.filter((x) => x.key === key))
    await functions.deleteVariable({ functionId, variableId: v.$id });
}

interface BreakerView {
  name: string;
  scope: string | null;
  state: string;
  openUntil: string | null;
  reopenCount: number;
}

interface ProcessView {
  name: string;
  scope: string | null;
  counters: { calls: number; failures: number; rejections: Record<string, number> };
}

/** The shared `slack` breaker and create-recognition's process counters for it (GET /circuit-breakers). */
async function slackBreaker(
  ctx: ScenarioContext,
): Promise<{ shared?: BreakerView | undefined; local?: ProcessView | undefined }> {
  const r = await ctx.execute('create-recognition', { path: '/circuit-breakers' });
  expectStatus(r, 200, 'GET /circuit-breakers');
  const body = r.body as { breakers: BreakerView[]; process: ProcessView[] };
  return {
    shared: body.breakers.find((b) => b.name === 'slack' && b.scope === null),
    local: body.process.find((b) => b.name === 'slack' && b.scope === null),
  };
}

async function resetSlack(ctx: ScenarioContext): Promise<void> {
  const r = await ctx.execute('create-recognition', {
    path: '/circuit-breakers/slack/reset',
    method: 'POST',
    body: {},
  });
  expectStatus(r, 200, 'POST /circuit-breakers/slack/reset');
}

const breakerStep: ScenarioStep = {
  name: 'Slack goes down: recognitions still succeed, the breaker opens, messages wait in the queue',
  async run(ctx) {
    const { orgId, aliceId, bobId } = ctx.state;
    check(orgId && aliceId && bobId, 'needs the organization step');
    const slack = await startFakeSlack();
    try {
      await setVariable(ctx, 'create-recognition', SLACK_VARIABLE, slack.url);
      await setVariable(ctx, 'job-worker', SLACK_VARIABLE, slack.url);
      // A persistent data directory may hold the breaker of an earlier, interrupted run.
      await resetSlack(ctx);

      let n = 0;
      const recognize = async () => {
        n++;
        const r = await ctx.executeAsUser(aliceId, 'create-recognition', {
          path: '/recognitions',
          method: 'POST',
          body: {
            orgId,
            receiverId: bobId,
            message: `Breaker demo #${n}`,
            points: 1,
            requestId: `scenario-breaker-${ctx.runId}-${n}`,
          },
        });
        expectStatus(r, 201, `recognition #${n} while Slack is down`);
      };
      let opened: BreakerView | undefined;
      while (n < MAX_TO_OPEN && !opened) {
        await recognize();
        const { shared } = await slackBreaker(ctx);
        if (shared?.state === 'OPEN') opened = shared;
      }
      check(
        opened,
        `the slack breaker is not OPEN after ${n} recognitions failing to notify (Slack refused ${slack.refused})`,
      );
      const toOpen = n;
      for (let i = 0; i < WHILE_OPEN; i++) await recognize();
      const { shared: stillOpen, local } = await slackBreaker(ctx);
      check(stillOpen?.state === 'OPEN', `the slack breaker is ${stillOpen?.state}, expected OPEN`);
      const rejected = local?.counters.rejections.open ?? 0;
      check(
        rejected >= WHILE_OPEN,
        `create-recognition rejected ${rejected} Slack calls with the breaker open, expected ≥ ${WHILE_OPEN}`,
      );
      const deferred = await listJobs(ctx, orgId, 'send-notification');
      check(
        deferred.length === n,
        `${deferred.length} send-notification jobs for ${n} recognitions (one each expected)`,
      );
      const lines = [
        `Slack answers 503: ${n}/${n} recognitions 201; breaker OPEN after ${toOpen} (until ${opened.openUntil});`,
        `create-recognition made ${local?.counters.failures ?? 0} failed Slack calls, skipped ${rejected} while open;`,
        `${deferred.length} send-notification jobs queued (${countBy(deferred, (j) => j.status)});`,
      ];

      // Slack recovers; the operator closes the breaker instead of waiting out the 30 s open duration.
      slack.healthy = true;
      const refusedDuringOutage = slack.refused;
      await resetSlack(ctx);
      const { shared: closed } = await slackBreaker(ctx);
      check(closed?.state === 'CLOSED', `after reset the slack breaker is ${closed?.state}, expected CLOSED`);

      const started = performance.now();
      let last = deferred;
      let drains = 0;
      const functions = new Functions(ctx.client);
      const done = await waitFor(
        'job-worker to deliver the deferred notifications',
        async () => {
          const drain = await functions.createExecution({
            functionId: 'job-worker',
            xpath: '/',
            method: 'POST' as never,
            body: '{}',
            headers: { 'content-type': 'application/json' },
          });
          drains++;
          check(drain.responseStatusCode === 200, `job-worker drain answered ${drain.responseStatusCode}`);
          last = await listJobs(ctx, orgId, 'send-notification');
          const dead = last.filter((j) => ['FAILED', 'DEAD_LETTER', 'CANCELLED'].includes(j.status));
          check(dead.length === 0, `deferred notifications ended ${countBy(dead, (j) => j.status)}`);
          return last.every((j) => j.status === 'COMPLETED') ? last : undefined;
        },
        {
          timeoutMs: DELIVERY_DEADLINE_MS,
          intervalMs: 1_000,
          detail: () => countBy(last, (j) => j.status),
        },
      );
      const deliveredMs = Math.round(performance.now() - started);
      for (let i = 1; i <= n; i++) {
        check(
          slack.delivered.some((text) => text.includes(`Breaker demo #${i}`)),
          `Slack never received recognition #${i}'s message`,
        );
      }
      const { shared: after } = await slackBreaker(ctx);
      check(
        after?.state === 'CLOSED',
        `after delivery the slack breaker is ${after?.state}, expected CLOSED`,
      );
      const maxAttempts = Math.max(...done.map((j) => j.attempts));
      lines.push(
        `Slack back, breaker reset → CLOSED; ${done.length} jobs COMPLETED in ${deliveredMs} ms (${drains} drain(s), up to ${maxAttempts} attempts each);`,
        `Slack refused ${refusedDuringOutage} requests during the outage, then received all ${n} messages`,
      );
      return lines.join('\n      ');
    } finally {
      // Leave the functions as deployed (no webhook pointing at a server that is about to stop).
      await Promise.allSettled([
        removeVariable(ctx, 'create-recognition', SLACK_VARIABLE),
        removeVariable(ctx, 'job-worker', SLACK_VARIABLE),
      ]);
      await slack.close();
    }
  },
};

/** The circuit-breaker steps `npm start` runs (spread into scripts/scenario.ts). */
export const breakerSteps: ScenarioStep[] = [breakerStep];
