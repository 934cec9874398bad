import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { errors } from 'resilience-core';
import { PROMETHEUS_CONTENT_TYPE } from 'resilience-core/metrics';
import { toResponse } from 'resilience-core/runtime';
import { runAction } from './actions.ts';
import { ConsoleHub } from './hub.ts';
import {
  createLiveSystem,
  type LiveSystem,
  type LiveSystemOptions,
  type OpsConnection,
} from './live-system.ts';
import { renderMetrics } from './metrics.ts';
import { checkRequest, createSecurity } from './security.ts';

/** Options of {@link startOpsConsole}. */
export interface OpsConsoleOptions extends LiveSystemOptions {
  connection: OpsConnection;
  /** Interface to bind. Default 127.0.0.1; anything else needs `token`. */
  host?: string;
  /** Port; 0 = a free one. */
  port: number;
  /** Access token (required off loopback). */
  token?: string | null;
  /** Background refresh period, ms. Default 5,000. */
  refreshMs?: number;
}

/** A running console. */
export interface OpsConsole {
  url: string;
  sys: LiveSystem;
  hub: ConsoleHub;
  close(): Promise<void>;
}

const STATIC_DIR = join(import.meta.dirname, 'static');
const STATIC: Record<string, string> = {
  '/app.js': 'text/javascript; charset=utf-8',
  '/charts.js': 'text/javascript; charset=utf-8',
  '/style.css': 'text/css; charset=utf-8',
};
const MAX_BODY = 64 * 1024;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, type: string, body: string, headers = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...headers });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw errors.invalidInput(`body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw errors.invalidInput('body is not JSON');
  }
}

/** Starts the console: the live system, its hub, and the HTTP server. */
export async function startOpsConsole(options: OpsConsoleOptions): Promise<OpsConsole> {
  const host = options.host ?? '127.0.0.1';
  const sys = createLiveSystem(options.connection, options);
  const hub = new ConsoleHub(sys, { refreshMs: options.refreshMs ?? 5_000 });
  const page = readFileSync(join(STATIC_DIR, 'index.html'), 'utf8');
  let security = createSecurity(host, options.port || 1, options.token ?? null);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://console');
    const refused = checkRequest(security, req, url);
    if (refused)
      return json(res, refused.status, { ok: false, error: { code: 'REFUSED', message: refused.message } });
    if (req.method === 'GET' && url.pathname === '/') {
      const cookie =
        security.accessToken && url.searchParams.get('token')
          ? { 'set-cookie': `ops_token=${security.accessToken}; HttpOnly; SameSite=Strict; Path=/` }
          : {};
      const html = page
        .replaceAll('{{CSRF}}', security.csrfToken)
        .replaceAll('{{PROJECT}}', escapeHtml(sys.connection.projectId))
        .replaceAll('{{ENDPOINT}}', escapeHtml(sys.connection.endpoint));
      return send(res, 200, 'text/html; charset=utf-8', html, cookie);
    }
    if (req.method === 'GET' && STATIC[url.pathname]) {
      return send(
        res,
        200,
        STATIC[url.pathname]!,
        readFileSync(join(STATIC_DIR, url.pathname.slice(1)), 'utf8'),
      );
    }
    if (req.method === 'GET' && url.pathname === '/api/state') {
      const state = url.searchParams.get('fresh') === '1' ? await hub.refresh() : await hub.current(2_000);
      return json(res, 200, {
        project: sys.connection,
        state,
        series: hub.series,
        alerts: hub.alertLog,
        alertChannels: sys.alerts.channels,
        slos: sys.slos,
      });
    }
    if (req.method === 'GET' && url.pathname === '/metrics') {
      return send(res, 200, PROMETHEUS_CONTENT_TYPE, await renderMetrics(sys));
    }
    if (req.method === 'GET' && url.pathname === '/healthz') return json(res, 200, { ok: true });
    const action = /^\/api\/actions\/([a-z]+\.[a-z]+)$/.exec(url.pathname);
    if (req.method === 'POST' && action) {
      const result = await runAction(sys, action[1]!, await readJson(req));
      const state = await hub.refreshAfterChange();
      return json(res, 200, { ok: true, result, state });
    }
    return json(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'no such page' } });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const out = toResponse(error);
      json(res, out.status, out.body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  security = { ...createSecurity(host, port, options.token ?? null), csrfToken: security.csrfToken };
  hub.start();
  void hub.refresh().catch(() => {});
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    sys,
    hub,
    close: async () => {
      hub.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
