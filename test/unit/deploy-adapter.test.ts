import { AppwriteException, type Models } from 'node-appwrite';
import { hasCode } from 'resilience-core';
import { createAppwriteFunctionsPlatform, type FunctionsApi } from 'resilience-core/adapters/appwrite';
import { describe, expect, it } from 'vitest';

const execution = (over: Partial<Models.Execution> = {}): Models.Execution =>
  ({
    $id: 'e1',
    $createdAt: '2026-01-01T00:00:01.000+00:00',
    $updatedAt: '2026-01-01T00:00:01.000+00:00',
    $permissions: [],
    functionId: 'f',
    deploymentId: 'd2',
    trigger: 'http',
    status: 'completed',
    requestMethod: 'GET',
    requestPath: '/health',
    requestHeaders: [],
    responseStatusCode: 200,
    responseBody: '{"ok":true}',
    responseHeaders: [],
    logs: '',
    errors: '',
    duration: 0.125,
    ...over,
  }) as Models.Execution;

/** A fake of the Functions endpoints that fails each method as told. */
function fakeApi(over: Partial<FunctionsApi>): FunctionsApi {
  const missing = () => Promise.reject(new AppwriteException('not here', 404, 'function_not_found'));
  return {
    get: missing,
    createDeployment: missing,
    getDeployment: missing,
    updateFunctionDeployment: missing,
    createExecution: missing,
    listExecutions: missing,
    getDeploymentDownload: missing,
    ...over,
  } as FunctionsApi;
}

describe('Appwrite FunctionsPlatform adapter (translation)', () => {
  it('maps 404 to null for the getters', async () => {
    const p = createAppwriteFunctionsPlatform({ api: fakeApi({}) });
    expect(await p.getFunction('f')).toBeNull();
    expect(await p.getDeployment('f', 'd')).toBeNull();
  });

  it('maps an active function and an empty deploymentId', async () => {
    const api = fakeApi({
      get: async () =>
        ({
          $id: 'f',
          name: 'F',
          deploymentId: '',
          enabled: true,
          execute: [],
          deploymentRetention: 7,
          schedule: '* * * * *',
          events: ['databases.*.tables.*.rows.*.create'],
        }) as never,
    });
    expect(await createAppwriteFunctionsPlatform({ api }).getFunction('f')).toEqual({
      id: 'f',
      name: 'F',
      activeDeploymentId: null,
      enabled: true,
      execute: [],
      deploymentRetentionDays: 7,
      schedule: '* * * * *',
      events: ['databases.*.tables.*.rows.*.create'],
    });
  });

  it('activating an unbuilt deployment is CONFLICT; 503 is RETRYABLE; other 4xx INVALID_INPUT', async () => {
    const cases: [AppwriteException, string][] = [
      [new AppwriteException('not ready', 400, 'build_not_ready'), 'CONFLICT'],
      [new AppwriteException('down', 503, 'general_server_error'), 'RETRYABLE'],
      [new AppwriteException('bad', 400, 'general_argument_invalid'), 'INVALID_INPUT'],
    ];
    for (const [error, code] of cases) {
      const p = createAppwriteFunctionsPlatform({
        api: fakeApi({ updateFunctionDeployment: () => Promise.reject(error) }),
      });
      const got = await p.activateDeployment('f', 'd').catch((e: unknown) => e);
      expect(hasCode(got, code as 'CONFLICT')).toBe(true);
      expect(String((got as Error).message)).not.toMatch(/key/i);
    }
  });

  it('converts execution durations to ms and pages with limit + 1', async () => {
    const seen: string[][] = [];
    const api = fakeApi({
      listExecutions: async (q) => {
        seen.push(q.queries ?? []);
        return { total: 0, executions: [execution(), execution({ $id: 'e2' })] };
      },
    });
    const page = await createAppwriteFunctionsPlatform({ api }).listExecutions('f', {
      deploymentId: 'd2',
      limit: 1,
    });
    expect(page.executions).toHaveLength(1);
    expect(page.executions[0]).toMatchObject({
      id: 'e1',
      durationMs: 125,
      deploymentId: 'd2',
      createdAt: Date.parse('2026-01-01T00:00:01Z'),
    });
    expect(page.nextCursor).toBe('e1');
    expect(seen[0]!.some((q) => q.includes('"limit"') && q.includes('2'))).toBe(true);
  });

  it('a finished execution ends at its last update; a running one has no end; 408 is TIMEOUT', async () => {
    const api = fakeApi({
      listExecutions: async () => ({
        total: 0,
        executions: [
          execution({
            $createdAt: '2026-01-01T00:00:01.000+00:00',
            $updatedAt: '2026-01-01T00:00:09.000+00:00',
          }),
          execution({ $id: 'e2', status: 'processing' as never }),
        ],
      }),
      createExecution: () =>
        Promise.reject(new AppwriteException('Synchronous function execution timed out.', 408, '')),
    });
    const p = createAppwriteFunctionsPlatform({ api });
    const page = await p.listExecutions('f', {});
    expect(page.executions[0]).toMatchObject({ createdAt: Date.parse('2026-01-01T00:00:01Z') });
    expect(page.executions[0]!.endedAt).toBe(Date.parse('2026-01-01T00:00:09Z'));
    expect(page.executions[1]!.endedAt).toBeUndefined();
    const error = await p.execute('f', { method: 'GET', path: '/health' }).catch((e: unknown) => e);
    expect(hasCode(error, 'TIMEOUT')).toBe(true);
  });

  it('falls back to filtering by time itself when $createdAt queries are refused', async () => {
    let calls = 0;
    const api = fakeApi({
      listExecutions: async (q) => {
        calls++;
        if ((q.queries ?? []).some((s) => s.includes('$createdAt'))) {
          throw new AppwriteException('Invalid query', 400, 'general_query_invalid');
        }
        return {
          total: 0,
          executions: [execution({ $id: 'old', $createdAt: '2025-12-31T23:59:00.000+00:00' }), execution()],
        };
      },
    });
    const p = createAppwriteFunctionsPlatform({ api });
    const since = Date.parse('2026-01-01T00:00:00Z');
    expect((await p.listExecutions('f', { createdAfter: since })).executions.map((e) => e.id)).toEqual([
      'e1',
    ]);
    expect((await p.listExecutions('f', { createdAfter: since })).executions.map((e) => e.id)).toEqual([
      'e1',
    ]);
    expect(calls).toBe(3); // one refused try, then the fallback for good
  });
});
