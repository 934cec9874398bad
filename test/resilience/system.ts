/**
 * The whole system for the resilience suite: a local Appwrite server provisioned from appwrite.json, two
 * tenants (real teams and users), the four functions' source over the Appwrite adapters (as production runs
 * them), a webhook stand-in on 127.0.0.1, and bookkeeping every scenario shares:
 * - `call` runs one request and records what it wrote: every successful write round trip to Appwrite
 *   (row, transaction, team or user endpoints) seen by the server's trace hook while the request ran;
 * - every log and error line of every execution is kept, so a scenario can check no secret was printed;
 * - `rowCounts` counts the rows of every table (one listRows with `total` each).
 *
 * Used by the short form in `npm test` (test/resilience/*.test.ts) and the long one in `npm run chaos`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { Client, Query, TablesDB, Teams, Users } from 'node-appwrite';
import { allTables, DATABASE_ID } from 'resilience-core';
import type { AppwriteContext, ResponseDescriptor } from 'resilience-core/runtime';
import { type FakeRequest, invoke } from 'resilience-core/testing';
import recognition from '../../functions/create-recognition/src/main.ts';
import orchestrator from '../../functions/deploy-orchestrator/src/main.ts';
import jobWorker from '../../functions/job-worker/src/main.ts';
import quotaReset from '../../functions/quota-reset/src/main.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The functions by name. */
export const FUNCTION_NAMES = [
  'create-recognition',
  'deploy-orchestrator',
  'job-worker',
  'quota-reset',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Two tenants: an owner and a member each, and a user in neither. */
export const TENANTS = {
  a: { orgId: 'tenant-a', owner: 'alice', member: 'amy' },
  b: { orgId: 'tenant-b', owner: 'bobby', member: 'beatrix' },
} as const;
export const OUTSIDER = 'oscar';

/** What one request did. */
export interface CallResult {
  fn: FunctionName;
  method: string;
  path: string;
  status: number;
  body: unknown;
  headers: Record<string, string>;
  /** Successful write round trips to Appwrite while the request ran. */
  writes: { method: string; path: string }[];
}

/** The running system. */
export interface System {
  server: AppwriteLocal;
  /** Secret values that must never appear in any log line. */
  secrets: readonly string[];
  /** Every log and error line of every execution so far. */
  logLines: string[];
  /** Requests the webhook stand-in received. */
  webhookHits: number;
  /** The webhook stand-in's URL (its last path segment is a secret token). */
  webhookUrl: string;
  call(fn: FunctionName, request: FakeRequest): Promise<CallResult>;
  /** Headers of a caller: the function's dynamic key always (Appwrite sends one), plus the user when given. */
  as(userId?: string, extra?: Record<string, string>): Record<string, string>;
  rowCounts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

const WRITE_PATH = /^\/(tablesdb|teams|users|functions)\b/;

/** Starts the system and seeds both tenants with a recognition each (and what `seed` adds). */
export async function startSystem(): Promise<System> {
  const apiKey = `chaos-key-${randomBytes(12).toString('hex')}`;
  const fallbackKey = `chaos-fallback-${randomBytes(12).toString('hex')}`;
  const webhookToken = `chaosWebhookToken${randomBytes(8).toString('hex')}`;
  let webhookHits = 0;
  const webhook: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      webhookHits++;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const slack = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/services/T0/B0/${webhookToken}`;

  let recording: { method: string; path: string }[] | null = null;
  const server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'chaos',
    apiKey,
    config: path.join(ROOT, 'appwrite.json'),
    trace: (entry) => {
      if (!recording) return;
      if (entry.method !== 'GET' && entry.status < 400 && WRITE_PATH.test(entry.path)) {
        recording.push({ method: entry.method, path: entry.path });
      }
    },
  });
  const client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(apiKey);
  const users = new Users(client);
  const teams = new Teams(client);
  for (const t of Object.values(TENANTS)) {
    await teams.create({ teamId: t.orgId, name: t.orgId });
    for (const [userId, roles] of [
      [t.owner, ['owner']],
      [t.member, []],
    ] as const) {
      await users.create({ userId, email: `${userId}@example.com`, name: userId });
      await teams.createMembership({ teamId: t.orgId, roles: [...roles], userId });
    }
  }
  await users.create({ userId: OUTSIDER, email: `${OUTSIDER}@example.com`, name: OUTSIDER });

  const env = {
    APPWRITE_FUNCTION_API_ENDPOINT: server.endpoint,
    APPWRITE_FUNCTION_PROJECT_ID: server.projectId,
    APPWRITE_FUNCTION_DEPLOYMENT: 'chaos-deployment',
    APPWRITE_API_KEY: fallbackKey,
    NOTIFY_SLACK_WEBHOOK_URL: slack,
  };
  // Code that reads the webhook from process.env (the notifier settings) sees the same stand-in.
  const SLACK_VAR = 'NOTIFY_SLACK_WEBHOOK_URL';
  const savedSlack = process.env[SLACK_VAR];
  process.env[SLACK_VAR] = slack;
  const handlers = {
    'create-recognition': recognition.with({ env }),
    'deploy-orchestrator': orchestrator.with({ env }),
    'job-worker': jobWorker.with({ env }),
    'quota-reset': quotaReset.with({ env }),
  } as Record<FunctionName, (context: AppwriteContext) => Promise<ResponseDescriptor>>;
  const tables = new TablesDB(client);
  const logLines: string[] = [];

  const system: System = {
    server,
    secrets: [apiKey, fallbackKey, webhookToken],
    logLines,
    webhookUrl: slack,
    get webhookHits() {
      return webhookHits;
    },
    async call(fn, request) {
      const writes: { method: string; path: string }[] = [];
      recording = writes;
      try {
        const out = await invoke(handlers[fn], request);
        logLines.push(...out.logs, ...out.errors);
        return {
          fn,
          method: request.method ?? 'GET',
          path: request.path ?? '/',
          status: out.status,
          body: out.body,
          headers: out.headers,
          writes,
        };
      } finally {
        recording = null;
      }
    },
    as(userId, extra = {}) {
      return {
        'x-appwrite-key': apiKey,
        'x-appwrite-trigger': 'http',
        ...(userId ? { 'x-appwrite-user-id': userId } : {}),
        ...extra,
      };
    },
    async rowCounts() {
      const counts: Record<string, number> = {};
      for (const spec of allTables) {
        const page = await tables.listRows({
          databaseId: DATABASE_ID,
          tableId: spec.$id,
          queries: [Query.limit(1)],
          total: true,
        });
        counts[spec.$id] = page.total;
      }
      return counts;
    },
    async stop() {
      if (savedSlack === undefined) delete process.env[SLACK_VAR];
      else process.env[SLACK_VAR] = savedSlack;
      await server.stop();
      await new Promise<void>((resolve) => webhook.close(() => resolve()));
    },
  };
  return system;
}

/** Lines of `lines` that contain any of `secrets`. */
export function leakedSecrets(lines: readonly string[], secrets: readonly string[]): string[] {
  return lines.filter((line) => secrets.some((s) => line.includes(s)));
}
