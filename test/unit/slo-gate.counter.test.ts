/**
 * The gate's Appwrite execution counter (core adapter): the request it sends, its cap, and its failures as
 * port errors, so a rollout start whose SLO evaluation hits a flaky Appwrite is retried as transient.
 */
import { AppwriteException, Client } from 'node-appwrite';
import { hasCode } from 'resilience-core';
import { APPWRITE_COUNT_CAP, appwriteExecutionCounter } from 'resilience-core/adapters/appwrite';
import { describe, expect, it } from 'vitest';

const client = new Client().setEndpoint('http://127.0.0.1:9/v1').setProject('p');
const filter = { functionId: 'create-recognition', triggers: ['http'], since: 0, until: 1_000 };

describe('appwriteExecutionCounter (core adapter)', () => {
  it('sends one listExecutions with total and limit(1), and reports the cap', async () => {
    const seen: { functionId: string; queries?: string[]; total?: boolean }[] = [];
    let calls = 0;
    const counter = appwriteExecutionCounter(client, {
      onCall: () => calls++,
      api: {
        listExecutions: async (p) => {
          seen.push(p);
          return { total: seen.length === 1 ? 7 : APPWRITE_COUNT_CAP, executions: [] };
        },
      },
    });
    expect(await counter.count({ ...filter, bad: { kind: 'error' } })).toEqual({ count: 7, capped: false });
    expect(await counter.count({ ...filter, bad: { kind: 'slow', slowerThanMs: 1500 } })).toEqual({
      count: APPWRITE_COUNT_CAP,
      capped: true,
    });
    expect(calls).toBe(2);
    expect(seen[0]).toMatchObject({ functionId: 'create-recognition', total: true });
    const queries = seen[0]!.queries!.map((q) => JSON.parse(q));
    expect(queries).toEqual([
      { method: 'equal', attribute: 'trigger', values: ['http'] },
      { method: 'equal', attribute: 'status', values: ['failed'] },
      { method: 'greaterThanEqual', attribute: '$createdAt', values: ['1970-01-01T00:00:00.000Z'] },
      { method: 'lessThan', attribute: '$createdAt', values: ['1970-01-01T00:00:01.000Z'] },
      { method: 'limit', values: [1] },
    ]);
    expect(seen[1]!.queries!.map((q) => JSON.parse(q))).toContainEqual({
      method: 'greaterThan',
      attribute: 'duration',
      values: [1.5],
    });
  });

  it.each([
    [503, 'general_unknown', 'RETRYABLE'],
    [429, 'general_rate_limit_exceeded', 'RETRYABLE'],
    [404, 'function_not_found', 'NOT_FOUND'],
  ])('turns an Appwrite %s (%s) into the port error %s', async (status, type, code) => {
    const counter = appwriteExecutionCounter(client, {
      api: {
        listExecutions: async () => {
          throw new AppwriteException('boom', status, type, '');
        },
      },
    });
    const error = await counter.count(filter).catch((e: unknown) => e);
    expect(hasCode(error, code as never)).toBe(true);
    expect((error as Error).message).toMatch(/listExecutions/);
  });
});
