/** The rollout command's pieces for a flaky server (scripts/lib/rollout-runner.ts): owners, proof of a dead holder, retries. */
import { errors } from 'resilience-core';
import type { LockRow } from 'resilience-core/deployment';
import { describe, expect, it } from 'vitest';
import {
  holderGoneOnThisHost,
  parseProcessOwner,
  processOwner,
  retryTransient,
} from '../../scripts/lib/rollout-runner.ts';

const holder = (owner: string): LockRow => ({
  functionId: 'f',
  rolloutId: 'r',
  owner,
  expiresAt: 0,
  version: 0,
});

describe('lock owners of processes', () => {
  it('name the host and pid, fit the 64-character column, and differ per call', () => {
    const a = processOwner('cli');
    expect(a.length).toBeLessThanOrEqual(64);
    expect(parseProcessOwner(a)).toMatchObject({ pid: process.pid });
    expect(processOwner('cli')).not.toBe(a);
    expect(parseProcessOwner('run-abc')).toBeNull();
  });

  it('a holder is proven gone only when it is this process itself or a dead pid of this host', () => {
    const self = processOwner('cli');
    const host = parseProcessOwner(self)!.host;
    const gone = holderGoneOnThisHost(self, (pid) => pid === 4242);
    expect(gone(holder(self))).toBe(true);
    expect(gone(holder(`cli:${host}:999999:ab12`))).toBe(true); // dead pid, this host
    expect(gone(holder(`deploy:${host}:4242:ab12`))).toBe(false); // alive
    expect(gone(holder('cli:elsewhere:999999:ab12'))).toBe(false); // another host proves nothing
    expect(gone(holder('run-abc'))).toBe(false); // a function execution's run
  });
});

describe('retryTransient', () => {
  it('retries RETRYABLE and OUTCOME_UNKNOWN with a countdown, then returns', async () => {
    const lines: string[] = [];
    const slept: number[] = [];
    const seen: number[] = [];
    const value = await retryTransient(
      async (n) => {
        seen.push(n);
        if (n === 0) throw errors.retryable('Appwrite unreachable');
        if (n === 1) throw errors.outcomeUnknown('commit lost');
        return 'ok';
      },
      { maxWaitMs: 60_000, out: (l) => lines.push(l), sleep: async (ms) => void slept.push(ms) },
    );
    expect(value).toBe('ok');
    expect(seen).toEqual([0, 1, 2]);
    expect(slept).toEqual([1_000, 1_000, 1_000]); // 1 s, then 2 s, in 1 s ticks
    expect(lines.filter((l) => /retrying in \d s…/.test(l))).toEqual([
      '  retrying in 1 s…',
      '  retrying in 2 s…',
      '  retrying in 1 s…',
    ]);
    expect(lines[0]).toMatch(/transient failure \(attempt 1\): Appwrite unreachable/);
  });

  it('throws other failures at once, and transient ones past the budget', async () => {
    const bad = errors.invalidInput('no');
    await expect(
      retryTransient(async () => Promise.reject(bad), { maxWaitMs: 10_000, out: () => {} }),
    ).rejects.toBe(bad);
    let calls = 0;
    const lines: string[] = [];
    const error = await retryTransient(
      async () => {
        calls++;
        throw errors.retryable('down');
      },
      { maxWaitMs: 3_000, out: (l) => lines.push(l), sleep: async () => {} },
    ).catch((e: unknown) => e);
    expect((error as { code: string }).code).toBe('RETRYABLE');
    expect(calls).toBe(3); // waits 1 s + 2 s, then the budget is spent
    expect(lines.at(-1)).toMatch(/still failing after 3 s of retries: down/);
  });
});
