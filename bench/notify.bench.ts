import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startAppwriteLocal } from 'appwrite-local';
import createRecognitionFunction from 'fn-create-recognition/src/main.ts';
import { Client, Teams, Users } from 'node-appwrite';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { JOB_TABLES } from 'resilience-core/jobs';
import { REQUEST_PATH_BUDGET_MS } from 'resilience-core/notify';
import { updateQuotaSettings } from 'resilience-core/quota';
import { invoke } from 'resilience-core/testing';
import { type Bench, type Figure, percentile } from './lib.ts';

/** What the webhook stand-in does. */
type WebhookCase = 'healthy' | 'failing' | 'hanging' | '429';
const CASES: readonly WebhookCase[] = ['healthy', 'failing', 'hanging', '429'];
/** Rounds per case (interleaved, order rotating); each round starts with the Slack breaker reset. */
const ROUNDS = 6;
/**
 * Requests per case and round: more than the 5 calls after which Slack's breaker may open. The fast cases take
 * more (their tails are what the p95 targets compare); a hanging round costs 5 × the inline timeout.
 */
const PER_ROUND: Record<WebhookCase, number> = { healthy: 30, failing: 30, hanging: 10, '429': 30 };
/** The request path's inline notification budget (resilience-core `notificationsFor`). */
const INLINE_TIMEOUT_MS = REQUEST_PATH_BUDGET_MS;
/** What the 429 stand-in asks for. */
const RETRY_AFTER_SECONDS = 2;
const ORG = 'bench-notify';

/**
 * `POST /recognitions` latency (p50/p95) per webhook behaviour, the issue-11 figure: create-recognition's own
 * handler (its routes, hooks, quota admission and notifications, from source) over the Appwrite adapter against
 * an in-memory local server (real HTTP round trips, real Teams for membership), and a Slack webhook stand-in on
 * 127.0.0.1 that answers 200 (healthy), 500 (failing), never (hanging, until the caller gives up) or 429 with
 * `Retry-After: 2`. Every request is a fresh execution of a warm process (the breaker registry stays, the
 * per-execution caches do not). Each round resets the Slack breaker first (operator route), so every round
 * includes the calls made before the breaker opens — the worst stretch of an outage; afterwards requests defer
 * without calling. Targets: no case's p95 above the healthy p95 by more than the inline timeout (2 s), and the
 * 429 case's p95 within 1.5× healthy (no Retry-After slept out).
 */
const bench: Bench = {
  name: 'notify',
  async run(ctx) {
    let mode: WebhookCase = 'healthy';
    let webhookCalls = 0;
    const hanging = new Set<ServerResponse>();
    const webhook = createServer((req: IncomingMessage, res: ServerResponse) => {
      webhookCalls++;
      req.resume();
      if (mode === 'healthy') return void res.writeHead(200).end('ok');
      if (mode === 'failing') return void res.writeHead(500).end('boom');
      if (mode === '429') {
        return void res.writeHead(429, { 'retry-after': String(RETRY_AFTER_SECONDS) }).end('slow down');
      }
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
    });
    webhook.listen(0, '127.0.0.1');
    await once(webhook, 'listening');
    const webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/services/T0/B0/bench`;
    const server = await startAppwriteLocal({
      port: 0,
      memory: true,
      projectId: 'bench-notify',
      apiKey: 'key',
      config: join(import.meta.dirname, '..', 'appwrite.json'),
    });
    try {
      const client = new Client()
        .setEndpoint(server.endpoint)
        .setProject(server.projectId)
        .setKey(server.apiKey);
      for (const id of ['ann', 'ben']) await new Users(client).create({ userId: id, name: id });
      await new Teams(client).create({ teamId: ORG, name: ORG });
      for (const id of ['ann', 'ben'])
        await new Teams(client).createMembership({ teamId: ORG, roles: [], userId: id });
      const store = createAppwriteTableStore({
        endpoint: server.endpoint,
        projectId: server.projectId,
        key: server.apiKey,
      });
      // Quotas out of the way: this measures the notification step, not admission.
      await updateQuotaSettings(
        store,
        { userId: null, orgId: ORG, isAdmin: true },
        {
          overrides: {
            recognitions_per_day: 1_000_000,
            api_calls_per_hour: 1_000_000,
            notifications_per_hour: 1_000_000,
          },
        },
        Date.now(),
      );
      const fn = createRecognitionFunction.with({
        env: {
          APPWRITE_FUNCTION_API_ENDPOINT: server.endpoint,
          APPWRITE_FUNCTION_PROJECT_ID: server.projectId,
          NOTIFY_SLACK_WEBHOOK_URL: webhookUrl,
        },
      });
      const key = { 'x-appwrite-key': server.apiKey, 'x-appwrite-trigger': 'http' };
      const resetSlack = async () => {
        const out = await invoke(fn, {
          method: 'POST',
          path: '/circuit-breakers/slack/reset',
          body: {},
          headers: key,
        });
        if (out.status !== 200) throw new Error(`breaker reset answered ${out.status}`);
      };
      const recognition = async (message: string): Promise<{ ms: number; called: boolean }> => {
        const callsBefore = webhookCalls;
        const t0 = process.hrtime.bigint();
        const out = await invoke(fn, {
          method: 'POST',
          path: '/recognitions',
          body: { orgId: ORG, receiverId: 'ben', message },
          headers: { ...key, 'x-appwrite-user-id': 'ann' },
        });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (out.status !== 201) throw new Error(`POST /recognitions answered ${out.status}`);
        return { ms, called: webhookCalls > callsBefore };
      };
      // Warm the process (module caches, SDK, connections) before timing.
      mode = 'healthy';
      for (let i = 0; i < 5; i++) await recognition(`warm-up ${i}`);
      const samples: Record<WebhookCase, number[]> = { healthy: [], failing: [], hanging: [], '429': [] };
      // The requests that called the webhook (before the breaker opened): the ones a slept Retry-After would hit.
      const calledSamples: Record<WebhookCase, number[]> = {
        healthy: [],
        failing: [],
        hanging: [],
        '429': [],
      };
      const calls: Record<WebhookCase, number> = { healthy: 0, failing: 0, hanging: 0, '429': 0 };
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < CASES.length; i++) {
          const c = CASES[(i + round) % CASES.length]!;
          mode = c;
          await resetSlack();
          const before = webhookCalls;
          for (let k = 0; k < PER_ROUND[c]; k++) {
            const r = await recognition(`${c} ${round}.${k}`);
            samples[c].push(r.ms);
            if (r.called) calledSamples[c].push(r.ms);
          }
          calls[c] += webhookCalls - before;
        }
      }
      const deferred = (await store.list(JOB_TABLES.queue, { limit: 1000, select: ['type'] })).rows.length;
      const healthy = { p50: percentile(samples.healthy, 50), p95: percentile(samples.healthy, 95) };
      const rows: Record<string, string | number>[] = [];
      const figures: Figure[] = [];
      for (const c of CASES) {
        const p50 = percentile(samples[c], 50);
        const p95 = percentile(samples[c], 95);
        rows.push({
          webhook: c,
          requests: samples[c].length,
          'webhook calls': calls[c],
          'p50 ms': round1(p50),
          'p95 ms': round1(p95),
          'p95 − healthy p95 (ms)': round1(p95 - healthy.p95),
          'p95 / healthy p95': round2(p95 / healthy.p95),
          'p95 ms, requests that called it': round1(percentile(calledSamples[c], 95)),
        });
        figures.push({ name: `notify.recognition.p50.${c}`, value: p50, unit: 'ms' });
        figures.push({
          name: `notify.recognition.p95.${c}`,
          value: p95,
          unit: 'ms',
          ...(c === 'healthy'
            ? {}
            : {
                peer: 'healthy p95 + inline timeout',
                peerValue: healthy.p95 + INLINE_TIMEOUT_MS,
                target: `<= healthy p95 + ${INLINE_TIMEOUT_MS} ms`,
                pass: p95 <= healthy.p95 + INLINE_TIMEOUT_MS,
              }),
        });
        if (c !== 'healthy') {
          figures.push({
            name: `notify.recognition.p95-ratio.${c}`,
            value: p95 / healthy.p95,
            unit: 'ratio',
            peer: 'healthy = 1',
            peerValue: 1,
            ...(c === '429' ? { target: '<= 1.5 x healthy', pass: p95 / healthy.p95 <= 1.5 } : {}),
          });
          // Information: only the requests that reached the webhook (few samples: 5 per round, so a noisy tail).
          const called = percentile(calledSamples[c], 95);
          figures.push({
            name: `notify.recognition.p95-ratio.${c}.webhook-called`,
            value: called / healthy.p95,
            unit: 'ratio',
            peer: 'healthy = 1',
            peerValue: 1,
          });
          figures.push({
            name: `notify.recognition.p50-ratio.${c}`,
            value: p50 / healthy.p50,
            unit: 'ratio',
            peer: 'healthy = 1',
            peerValue: 1,
          });
        }
      }
      ctx.table(
        `POST /recognitions by webhook behaviour (${ROUNDS} interleaved rounds, ` +
          `breaker reset each round; ${deferred} send-notification jobs deferred in all)`,
        rows,
      );
      return figures;
    } finally {
      for (const res of hanging) res.destroy();
      webhook.close();
      await server.stop();
    }
  },
};

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export default bench;
