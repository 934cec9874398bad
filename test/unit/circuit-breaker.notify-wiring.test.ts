import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import quotaReset from 'fn-quota-reset/src/main.ts';
import { listAll } from 'resilience-core';
import { CIRCUIT_BREAKER_BUCKETS_TABLE } from 'resilience-core/circuit-breaker';
import { processCircuitBreakers, webhookTransport } from 'resilience-core/notify';
import { forgetKnownAlerts } from 'resilience-core/quota';
import { invoke } from 'resilience-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quotaFixture } from '../quota-helpers.ts';

const SLACK = 'https://hooks.slack.test/services/T000/B000/wiring-secret';
const ORG = 'org-acme';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const functionSources = readdirSync('functions').flatMap((fn) =>
  filesUnder(join('functions', fn, 'src')).filter((p) => !p.endsWith('.test.ts')),
);

describe('notifications are wired once, in resilience-core', () => {
  const saved = { ...webhookTransport };
  beforeEach(() => forgetKnownAlerts());
  afterEach(() => {
    webhookTransport.fetch = saved.fetch;
  });

  it('no function file builds a notifier, a breaker registry or a deferral, or reads webhook variables itself', () => {
    expect(functionSources.length).toBeGreaterThan(8);
    const offenders = functionSources.filter((path) =>
      /createWebhookNotifier|new CircuitBreakerRegistry|webhooksFromEnv|queueDeferral|logDeferral|process\.env\.NOTIFY_|quotaNotifierFromWebhooks/.test(
        readFileSync(path, 'utf8'),
      ),
    );
    expect(offenders).toEqual([]);
  });

  it('the create-recognition route files import each other without a cycle', () => {
    const dir = 'functions/create-recognition/src/routes';
    const graph = new Map(
      readdirSync(dir).map((file) => [
        file.replace(/\.ts$/, ''),
        [...readFileSync(join(dir, file), 'utf8').matchAll(/from '\.\/([a-z-]+)\.ts'/g)].map((m) => m[1]!),
      ]),
    );
    expect(graph.get('notifications')).toEqual(['quota']);
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      if (path.includes(node)) return void cycles.push([...path, node].join(' → '));
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });

  it('quota-reset reads its webhooks from its env schema and keeps one breaker registry across executions', async () => {
    const posts: { url: string; text: string }[] = [];
    webhookTransport.fetch = (async (url: string | URL | Request, init?: RequestInit) => {
      posts.push({ url: String(url), text: String(JSON.parse(String(init?.body)).text) });
      return new Response('ok', { status: 200 });
    }) as typeof fetch;
    const f = quotaFixture();
    await f.service().consume(ORG, 'exports_per_day', 2);
    f.clock.set('2026-03-11T00:00:00.000Z');
    // The variable comes only from the function's env (not process.env): the old wiring never saw it.
    const fn = quotaReset.with({ store: f.store, clock: f.clock, env: { NOTIFY_SLACK_WEBHOOK_URL: SLACK } });
    const run = await invoke(fn, {
      method: 'POST',
      path: '/',
      headers: { 'x-appwrite-trigger': 'schedule' },
    });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ report: { summariesSent: 1 } });
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ url: SLACK, text: expect.stringContaining(ORG) });
    // The breaker's outcome reached the shared table before the execution ended (one success bucket).
    const buckets = await listAll(f.store, CIRCUIT_BREAKER_BUCKETS_TABLE);
    expect(buckets.map((b) => [b.kind, b.count])).toEqual([['ok', 1]]);
    // The registry is the process's, warm for the next execution: the breaker that served the run is in it.
    const registry = processCircuitBreakers(
      { store: () => f.store, clock: f.clock, log: console },
      'background',
    );
    expect(registry.snapshot().map((s) => [s.name, s.counters.successes])).toEqual([['slack', 1]]);
    const again = await invoke(fn, { method: 'POST', path: '/', body: {} });
    expect(again.status).toBe(200);
    expect(processCircuitBreakers({ store: () => f.store, clock: f.clock, log: console }, 'background')).toBe(
      registry,
    );
    // A secret webhook URL never reaches a log line.
    expect([...run.logs, ...run.errors, ...again.logs, ...again.errors].join('\n')).not.toContain(
      'wiring-secret',
    );
  });

  it('a bad webhook variable turns notifications off (named, never echoed) without failing the run', async () => {
    const f = quotaFixture();
    const fn = quotaReset.with({
      store: f.store,
      clock: f.clock,
      env: { NOTIFY_SLACK_WEBHOOK_URL: 'not a url wiring-secret' },
    });
    const run = await invoke(fn, { method: 'POST', path: '/', body: {} });
    expect(run.status).toBe(200);
    const lines = [...run.logs, ...run.errors].join('\n');
    expect(lines).toContain('notifications off');
    expect(lines).toContain('Invalid webhook variables: NOTIFY_SLACK_WEBHOOK_URL');
    expect(lines).not.toContain('wiring-secret');
  });
});
