import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { ConsoleHub, createLiveSystem, type OpsConsole, startOpsConsole } from 'ops-console';
import { allTables } from 'resilience-core';
import { CIRCUIT_BREAKERS_TABLE } from 'resilience-core/circuit-breaker';
import type { ExecutionInfo } from 'resilience-core/deployment';
import type { SloAlert } from 'resilience-core/slo';
import { memoryExecutionCounter } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type LocalTables, startLocalWithTables } from './appwrite-local-helpers.ts';
import { ROOT } from './ops-console-helpers.ts';

/**
 * The console's HTTP surface against a local server: `GET /metrics` (names, types and the example alert rules'
 * metrics), and the request checks that keep the API key in the process and cross-site requests out.
 */

let local: LocalTables;
let ops: OpsConsole;
let csrf: string;
const KEY = 'secret-key-for-ops-console-tests';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Raw> {
  return raw(`${ops.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, ...headers },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  local = await startLocalWithTables(allTables, {
    apiKey: KEY,
    functionEntries: [
      { $id: 'create-recognition', name: 'create-recognition', runtime: 'node-22', entrypoint: 'index.js' },
    ],
  });
  ops = await startOpsConsole({
    connection: { endpoint: local.server.endpoint, projectId: local.server.projectId, key: KEY },
    port: 0,
    refreshMs: 0,
  });
  const page = await raw(`${ops.url}/`);
  csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page.body)![1]!;
}, 60_000);

afterAll(async () => {
  await ops?.close();
  await local?.stop();
});

/** Family name → type, from `# TYPE` lines. */
function families(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

describe('GET /metrics', () => {
  it('serves breakers, jobs, quotas and SLOs in the Prometheus text format, by Prometheus conventions', async () => {
    expect(
      (await post('/api/actions/breaker.isolate', { name: 'slack', reason: 'maintenance' })).status,
    ).toBe(200);
    const res = await raw(`${ops.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const fams = families(res.body);
    for (const name of [
      'resilience_circuit_breaker_state',
      'resilience_circuit_breaker_transitions_total',
      'resilience_jobs_queue_depth',
      'resilience_jobs_oldest_due_age_seconds',
      'resilience_quota_usage_ratio',
      'resilience_slo_objective_ratio',
      'resilience_slo_error_budget_remaining_ratio',
      'resilience_slo_burn_rate',
    ]) {
      expect(fams.has(name), name).toBe(true);
    }
    for (const [name, type] of fams) {
      expect(name).toMatch(/^resilience_[a-z0-9_]+$/);
      if (type === 'counter') expect(name, name).toMatch(/_total$/);
      else expect(name, name).not.toMatch(/_total$/);
    }
    // The isolated breaker, fleet-wide, and the SLO figures per window.
    expect(res.body).toContain('resilience_circuit_breaker_isolated{breaker="slack",scope=""} 1');
    for (const window of ['5m', '30m', '1h', '6h', '30d']) {
      expect(res.body).toContain(
        `resilience_slo_burn_rate{slo="create-recognition-availability",function="create-recognition",kind="availability",window="${window}"} 0`,
      );
    }
    expect(res.body).toMatch(
      /resilience_slo_objective_ratio\{slo="create-recognition-availability",function="create-recognition",kind="availability"\} 0\.9995/,
    );
    expect(res.body).toMatch(/resilience_ops_console_section_up\{section="slos"\} 1/);
    // breakers 1 + jobs 2 + quotas 2 (no organization) + SLO counts 15
    expect(res.body).toMatch(/^resilience_ops_console_scrape_round_trips 20$/m);
    expect(res.body).not.toContain(KEY);
  });

  it('the example scrape config and alert rules parse, and every metric an alert uses is served', async () => {
    const dir = join(ROOT, 'ops', 'prometheus');
    const config = parse(readFileSync(join(dir, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    const job = config.scrape_configs.find((j) => j.job_name === 'ops-console')!;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs[0]!.targets[0]).toMatch(/^127\.0\.0\.1:\d+$/);
    const rules = parse(readFileSync(join(dir, 'alerts.yml'), 'utf8')) as {
      groups: { name: string; rules: { alert: string; expr: string; labels: { severity: string } }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['SloFastBurn', 'SloSlowBurn', 'SloErrorBudgetExhausted', 'CircuitBreakerOpen']),
    );
    const served = families((await raw(`${ops.url}/metrics`)).body);
    const used = new Set(
      all.flatMap((r) => [...r.expr.matchAll(/\bresilience_[a-z0-9_]+/g)].map((m) => m[0])),
    );
    expect(used.size).toBeGreaterThan(8);
    for (const name of used)
      expect(served.has(name), `${name} is used by an alert but not served`).toBe(true);
    for (const r of all) expect(['page', 'ticket', 'info']).toContain(r.labels.severity);
    const fast = all.find((r) => r.alert === 'SloFastBurn')!.expr;
    expect(fast).toMatch(/window="1h"\} > 14\.4/);
    expect(fast).toMatch(/window="5m"\} > 14\.4/);
  });
});

describe('console refresh', () => {
  it('states its round trips: 15 SLO counts, 8 table reads with no organization, 1 functions list', async () => {
    const state = await ops.hub.refresh();
    // breakers 2 (states, buckets) + jobs 4 (two scans, dead letters, waiting) + quotas 2 (usage, pending);
    // no function has a standby twin here, so the rollouts panel is the functions list alone.
    expect(state.roundTrips.byArea).toEqual({ executions: 15, tables: 8, functions: 1 });
    expect(state.roundTrips.total).toBe(24);
  });

  it("an action's answer shows the action, even when a refresh was already running as it acted", async () => {
    const running = ops.hub.refresh(); // reads the breakers before the isolate below
    const res = await post('/api/actions/breaker.isolate', { name: 'refresh-race', reason: 'test' });
    await running;
    expect(res.status).toBe(200);
    const { state } = JSON.parse(res.body) as {
      state: { breakers: { rows: { name: string; state: string }[] } };
    };
    expect(state.breakers.rows.find((b) => b.name === 'refresh-race')?.state).toBe('ISOLATED');
  });
});

describe('SLO alerts from the console', () => {
  it('sends a burning SLO alert once per alert window through the sender, and shows it in the log', async () => {
    const sys = createLiveSystem({
      endpoint: local.server.endpoint,
      projectId: local.server.projectId,
      key: KEY,
    });
    const now = Date.now();
    // 300 requests in the last 10 minutes, one in ten failed: 200x the 99.95 % budget rate, over every window.
    const records: ExecutionInfo[] = Array.from({ length: 300 }, (_, i) => ({
      id: `e${i}`,
      functionId: 'create-recognition',
      deploymentId: 'd',
      status: i % 10 === 0 ? 'failed' : 'completed',
      trigger: 'http',
      requestMethod: 'POST',
      requestPath: '/recognitions',
      responseStatusCode: i % 10 === 0 ? 500 : 201,
      responseBody: '',
      durationMs: 50,
      createdAt: now - 1000 - i * 2000,
    }));
    const sent: SloAlert[] = [];
    const hub = new ConsoleHub(
      {
        ...sys,
        counter: memoryExecutionCounter(() => records),
        alerts: { ...sys.alerts, channels: ['slack'], sender: { send: async (a) => void sent.push(a) } },
      },
      { refreshMs: 0 },
    );
    await hub.refresh();
    await hub.refresh();
    expect(sent.map((a) => `${a.sloId}:${a.rule}`)).toEqual([
      'create-recognition-availability:fast',
      'create-recognition-availability:slow',
    ]);
    expect(hub.alertLog.map((a) => a.outcome)).toEqual(['sent', 'sent']);
    // With no channel configured nothing is sent (and the log does not pretend it was).
    const silent = new ConsoleHub(
      { ...sys, counter: memoryExecutionCounter(() => records), alerts: { ...sys.alerts, channels: [] } },
      { refreshMs: 0 },
    );
    await silent.refresh();
    expect(silent.alertLog).toEqual([]);
    expect(sent[0]!.text).toMatch(/spending its error budget 200\.0× too fast over 1h/);
  });
});

describe('request checks', () => {
  it('never gives the browser the API key', async () => {
    const page = await raw(`${ops.url}/`);
    const state = await raw(`${ops.url}/api/state?fresh=1`);
    expect(page.status).toBe(200);
    expect(state.status).toBe(200);
    expect(page.body).not.toContain(KEY);
    expect(state.body).not.toContain(KEY);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('refuses state changes without the CSRF token, cross-site, cross-origin, as a form, or not as POST', async () => {
    const reset = { name: 'slack' };
    expect((await post('/api/actions/breaker.reset', reset, { 'x-csrf-token': 'nope' })).status).toBe(403);
    expect((await post('/api/actions/breaker.reset', reset, { 'sec-fetch-site': 'cross-site' })).status).toBe(
      403,
    );
    expect((await post('/api/actions/breaker.reset', reset, { origin: 'http://evil.example' })).status).toBe(
      403,
    );
    expect((await post('/api/actions/breaker.reset', reset, { 'content-type': 'text/plain' })).status).toBe(
      415,
    );
    expect((await raw(`${ops.url}/api/actions/breaker.reset`, { method: 'PUT' })).status).toBe(405);
    expect((await raw(`${ops.url}/api/state`, { headers: { host: 'evil.example:80' } })).status).toBe(421);
    // Nothing changed: the breaker isolated above is still isolated.
    expect(await local.store().get(CIRCUIT_BREAKERS_TABLE, 'cb.slack')).toMatchObject({ isolated: true });
    const ok = await post('/api/actions/breaker.reset', reset, {
      origin: ops.url,
      'sec-fetch-site': 'same-origin',
    });
    expect(ok.status).toBe(200);
    expect(await local.store().get(CIRCUIT_BREAKERS_TABLE, 'cb.slack')).toMatchObject({ isolated: false });
  });

  it('answers bad action input with 400 and the field issues', async () => {
    const res = await post('/api/actions/job.redrive', { jobId: 'no spaces allowed' });
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body) as { error: { code: string; issues: { path: string }[] } };
    expect(body.error.code).toBe('INVALID_INPUT');
    expect(body.error.issues[0]!.path).toBe('jobId');
    expect((await post('/api/actions/nope.nope', {})).status).toBe(404);
    const notJson = await raw(`${ops.url}/api/actions/job.redrive`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: '{',
    });
    expect(notJson.status).toBe(400);
  });

  it('needs a token to bind to another interface, and then asks every request for it', async () => {
    const connection = { endpoint: local.server.endpoint, projectId: local.server.projectId, key: KEY };
    await expect(startOpsConsole({ connection, host: '0.0.0.0', port: 0, refreshMs: 0 })).rejects.toThrow(
      /requires a token/,
    );
    const token = 'a-long-enough-access-token';
    const guarded = await startOpsConsole({ connection, host: '127.0.0.1', port: 0, refreshMs: 0, token });
    try {
      expect((await raw(`${guarded.url}/metrics`)).status).toBe(401);
      expect(
        (await raw(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(200);
      const login = await raw(`${guarded.url}/?token=${token}`);
      expect(login.status).toBe(200);
      expect(String(login.headers['set-cookie'])).toMatch(/ops_token=.*HttpOnly; SameSite=Strict/);
    } finally {
      await guarded.close();
    }
  });
});

describe('npm run ops', () => {
  const cli = (args: string[], env: Record<string, string>) =>
    spawn(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'packages/ops-console/src/cli.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );

  it('serves the console on 127.0.0.1 with the APPWRITE_* variables and prints its URL', async () => {
    const child = cli(['--port', '0'], {
      APPWRITE_ENDPOINT: local.server.endpoint,
      APPWRITE_PROJECT_ID: local.server.projectId,
      APPWRITE_API_KEY: KEY,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 30_000);
        child.stdout.on('data', () => {
          const m = /^ops console on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      expect((await raw(`${url}/healthz`)).status).toBe(200);
      expect(out).not.toContain(KEY);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('names the missing variables and exits 2', async () => {
    const child = cli(['--port', '0'], { APPWRITE_ENDPOINT: local.server.endpoint });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/set APPWRITE_PROJECT_ID, APPWRITE_API_KEY/);
  });
});
