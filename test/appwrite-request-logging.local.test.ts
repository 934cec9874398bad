/**
 * How a function built with the kit logs its Appwrite round trips: a claim lost to a concurrent worker (a
 * compare-and-set answered 400 attribute_limit_exceeded / 409 transaction_conflict) is routine and writes no
 * warning; a 5xx or a refused key does. Runs the kit's own store (node-appwrite over HTTP) against the local
 * server, and against a stub endpoint that answers 500 or 401 to everything.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppwriteLocal } from 'appwrite-local';
import { isResilienceError, type TableStore } from 'resilience-core';
import { createJobQueue, type Lease, productJobTypes } from 'resilience-core/jobs';
import { defineFunction } from 'resilience-core/runtime';
import { invoke } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobsServer } from './jobs-local-helpers.ts';

let server: AppwriteLocal;

beforeAll(async () => {
  server = await startJobsServer();
});

afterAll(async () => {
  await server?.stop();
});

/** Delays each `list` until `parties` of them are waiting, so concurrent claimers all see the same job version. */
function listBarrier(store: TableStore, parties: number): TableStore {
  let waiting: (() => void)[] = [];
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'list' || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const page = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          if (waiting.length >= parties) {
            for (const w of waiting) w();
            waiting = [];
          }
        });
        return page;
      };
    },
  });
}

interface ClaimRace {
  won: number;
  lost: string[];
}

/** A function whose schedule trigger runs `claimers` concurrent claims of one freshly enqueued job. */
function claimRaceFunction(claimers: number) {
  return defineFunction({
    name: 'claim-race',
    version: 'test',
    setup: (ctx) => ({ store: ctx.store() }),
    onSchedule: async ({ deps }) => {
      const producer = createJobQueue({ store: deps.store, types: productJobTypes });
      const { jobId } = await producer.enqueue({
        orgId: 'org-race',
        type: 'cleanup-recognitions',
        payload: { daysOld: 30 },
      });
      const racing = listBarrier(deps.store, claimers);
      const outcomes = await Promise.allSettled(
        Array.from({ length: claimers }, (_, i) =>
          createJobQueue({ store: racing, types: productJobTypes }).claim({ workerId: `w${i}`, limit: 1 }),
        ),
      );
      const won = outcomes.filter(
        (o): o is PromiseFulfilledResult<Lease[]> =>
          o.status === 'fulfilled' && o.value.some((l) => l.job.$id === jobId),
      ).length;
      const lost = outcomes.flatMap((o) =>
        o.status === 'rejected' ? [isResilienceError(o.reason) ? o.reason.code : String(o.reason)] : [],
      );
      const body: ClaimRace = { won, lost };
      return { body };
    },
  });
}

const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

function envFor(endpoint: string, extra: Record<string, string> = {}) {
  return {
    APPWRITE_FUNCTION_API_ENDPOINT: endpoint,
    APPWRITE_FUNCTION_PROJECT_ID: 'test',
    APPWRITE_API_KEY: 'key',
    ...extra,
  };
}

describe('kit logging of Appwrite round trips', () => {
  it('a claim lost to a concurrent worker logs no warning (and a debug line only at LOG_LEVEL=debug)', async () => {
    for (const level of ['info', 'debug'] as const) {
      const fn = claimRaceFunction(3).with({ env: envFor(server.endpoint, { LOG_LEVEL: level }) });
      const r = await invoke(fn, { headers: { 'x-appwrite-trigger': 'schedule' } });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const race = r.body as ClaimRace;
      // Exactly one claimer got the job; the others lost the compare-and-set (the port's BOUND_EXCEEDED or
      // CONFLICT, which the worker treats as a claim conflict).
      expect(race.won).toBe(1);
      expect(race.lost.length).toBe(2);
      for (const code of race.lost) expect(['BOUND_EXCEEDED', 'CONFLICT']).toContain(code);
      const lines = parse([...r.logs, ...r.errors]);
      expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
      const answers = lines.filter((l) => l.msg === 'appwrite answered');
      if (level === 'info') expect(answers).toEqual([]);
      else {
        expect(answers.length).toBeGreaterThanOrEqual(2);
        for (const a of answers) {
          expect(a).toMatchObject({ level: 'debug', ok: false, expected: true, method: 'updateTransaction' });
          expect([400, 409]).toContain(a.status);
        }
      }
    }
  });

  describe('against an endpoint that fails', () => {
    let stub: Server;
    let endpoint = '';
    let answer = { status: 500, type: 'general_unknown' };

    beforeAll(async () => {
      stub = createServer((req, res) => {
        req.resume();
        res
          .writeHead(answer.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: 'stub failure', code: answer.status, type: answer.type }));
      });
      await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/v1`;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => stub.close(() => resolve()));
    });

    const reader = () =>
      defineFunction({
        name: 'reader',
        version: 'test',
        setup: (ctx) => ({ store: ctx.store() }),
        onSchedule: async ({ deps }) => {
          const error = await deps.store.get('job-queue', 'some-job').then(
            () => null,
            (e: unknown) => (isResilienceError(e) ? e.code : String(e)),
          );
          return { body: { error } };
        },
      });

    it('a 500 is a warning on every attempt, the last one saying it gave up', async () => {
      answer = { status: 500, type: 'general_unknown' };
      const r = await invoke(reader().with({ env: envFor(endpoint) }), {
        headers: { 'x-appwrite-trigger': 'schedule' },
      });
      expect(r.body).toEqual({ error: 'RETRYABLE' });
      const warnings = parse(r.logs).filter((l) => l.level === 'warn');
      expect(warnings.map((w) => [w.msg, w.status, w.attempt, w.retrying])).toEqual([
        ['appwrite request failed; retrying', 500, 1, true],
        ['appwrite request failed; retrying', 500, 2, true],
        ['appwrite request failed; retrying', 500, 3, true],
        ['appwrite request failed', 500, 4, false],
      ]);
      expect(JSON.stringify([...r.logs, ...r.errors])).not.toContain('"key"');
    });

    it('a refused key (401) is an error', async () => {
      answer = { status: 401, type: 'general_unauthorized_scope' };
      const r = await invoke(reader().with({ env: envFor(endpoint) }), {
        headers: { 'x-appwrite-trigger': 'schedule' },
      });
      expect(r.body).toEqual({ error: 'INTERNAL' });
      const errors = parse(r.errors).filter((l) => l.msg === 'appwrite refused the key');
      expect(errors).toMatchObject([{ level: 'error', status: 401, expected: false, retrying: false }]);
    });
  });
});
