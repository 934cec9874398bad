import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The console's request checks. The API key never leaves the server process; what protects the actions is:
 * - Host: only the names the console is served under (stops DNS rebinding from a hostile page);
 * - state changes are POST only, with `content-type: application/json`, the per-process CSRF token (in the
 *   page, readable only same-origin) in `x-csrf-token`, an `Origin` (when sent) equal to the console's own, and
 *   `Sec-Fetch-Site` (when sent) `same-origin` — so a cross-site form or fetch cannot act;
 * - bound to anything but loopback, every request needs the access token (`Authorization: Bearer`, or the
 *   HttpOnly SameSite=Strict cookie that `/?token=` sets).
 */
export interface ConsoleSecurity {
  csrfToken: string;
  /** Access token; null when bound to loopback without one. */
  accessToken: string | null;
  /** Host header values accepted (`host:port`). */
  hosts: Set<string>;
  /** Origins accepted for state-changing requests. */
  origins: Set<string>;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The checks for a console served on `host:port`. Throws when a non-loopback bind has no token. */
export function createSecurity(host: string, port: number, accessToken: string | null): ConsoleSecurity {
  if (!isLoopback(host) && !accessToken) {
    throw new Error(
      `binding to ${host} (not loopback) requires a token: pass --token or set OPS_CONSOLE_TOKEN`,
    );
  }
  if (accessToken !== null && accessToken.length < 16)
    throw new Error('the access token must be at least 16 characters');
  const names = new Set([host, ...(isLoopback(host) ? ['127.0.0.1', 'localhost'] : [])]);
  const hosts = new Set([...names].map((n) => `${n.includes(':') ? `[${n}]` : n}:${port}`));
  return {
    csrfToken: randomBytes(24).toString('base64url'),
    accessToken,
    hosts,
    origins: new Set([...hosts].map((h) => `http://${h}`)),
  };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

/** Why a request is refused (status and message), or null when it may go on. */
export function checkRequest(
  sec: ConsoleSecurity,
  req: IncomingMessage,
  url: URL,
): { status: number; message: string } | null {
  if (!sec.hosts.has(req.headers.host ?? '')) return { status: 421, message: 'unexpected Host header' };
  if (sec.accessToken !== null) {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? null;
    const given = bearer ?? cookie(req, 'ops_token') ?? url.searchParams.get('token');
    if (given === null || !same(given, sec.accessToken))
      return { status: 401, message: 'access token required' };
  }
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return null;
  if (method !== 'POST') return { status: 405, message: 'method not allowed' };
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin')
    return { status: 403, message: 'cross-site request refused' };
  const origin = req.headers.origin;
  if (origin !== undefined && !sec.origins.has(origin))
    return { status: 403, message: 'cross-origin request refused' };
  if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
    return { status: 415, message: 'content-type must be application/json' };
  const csrf = req.headers['x-csrf-token'];
  if (typeof csrf !== 'string' || !same(csrf, sec.csrfToken))
    return { status: 403, message: 'missing or bad CSRF token' };
  return null;
}
