import type { TableStore } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import type { CircuitBreakerOptions, CircuitStatus } from 'resilience-core/circuit-breaker';
import { ManualClock } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import {
  type Behaviour,
  type CallResult,
  callOnce,
  dependency,
  makeBreaker,
} from '../circuit-breaker-helpers.ts';

/** One step of a scenario: some calls, a clock move or an operator action, then what must hold. */
interface Step {
  call?: Behaviour;
  times?: number;
  /** For `slow`: how long each call takes (ms). */
  slowMs?: number;
  advance?: number;
  op?: 'isolate' | 'reset';
  /** Every call of this step had this result. */
  result?: CallResult;
  status: CircuitStatus;
  /** Expected `openUntil - now` after the step (ms), when open. */
  openFor?: number;
}

interface Scenario {
  name: string;
  options: CircuitBreakerOptions;
  steps: Step[];
}

const base: CircuitBreakerOptions = {
  window: { type: 'count', size: 10 },
  minimumCalls: 10,
  failureRateThreshold: 50,
  openDuration: { baseMs: 10_000, multiplier: 2, maxMs: 35_000, resetAfterMs: 60_000 },
  halfOpen: { maxProbes: 1, leaseMs: 5_000 },
  cacheTtlMs: 1_000,
};

const scenarios: Scenario[] = [
  {
    name: 'stays closed below the minimum number of calls, however many fail',
    options: base,
    steps: [{ call: 'fail', times: 9, result: 'ran', status: 'CLOSED' }],
  },
  {
    name: 'opens after 5 failures in 10 calls',
    options: base,
    steps: [
      { call: 'ok', times: 5, result: 'ran', status: 'CLOSED' },
      { call: 'fail', times: 4, result: 'ran', status: 'CLOSED' },
      { call: 'fail', result: 'ran', status: 'OPEN', openFor: 10_000 },
      { call: 'ok', times: 3, result: 'open', status: 'OPEN' },
    ],
  },
  {
    name: 'stays closed at 4 failures in 10 calls (below the rate)',
    options: base,
    steps: [
      { call: 'fail', times: 4, result: 'ran', status: 'CLOSED' },
      { call: 'ok', times: 6, result: 'ran', status: 'CLOSED' },
      { call: 'ok', times: 10, result: 'ran', status: 'CLOSED' },
    ],
  },
  {
    name: 'does not count a dependency 4xx, but counts timeouts',
    options: base,
    steps: [
      { call: '4xx', times: 10, result: 'ran', status: 'CLOSED' },
      // A new bucket: fleet-wide, a count window is bucket-granular (order within one bucket is not kept).
      { advance: 1_000, call: 'timeout', times: 4, result: 'ran', status: 'CLOSED' },
      { call: 'timeout', result: 'ran', status: 'OPEN' },
    ],
  },
  {
    name: 'opens on the slow-call rate',
    options: { ...base, slowCallDurationMs: 1_000, slowCallRateThreshold: 60 },
    steps: [
      { call: 'ok', times: 4, result: 'ran', status: 'CLOSED' },
      { call: 'slow', slowMs: 1_500, times: 5, result: 'ran', status: 'CLOSED' },
      { call: 'slow', slowMs: 1_500, result: 'ran', status: 'OPEN' },
    ],
  },
  {
    name: 'half-opens when the open duration has passed and closes after the probe succeeds',
    options: base,
    steps: [
      { call: 'fail', times: 10, result: 'ran', status: 'OPEN' },
      { advance: 9_999, status: 'OPEN' },
      { call: 'ok', result: 'open', status: 'OPEN' },
      { advance: 1, status: 'HALF_OPEN' },
      { call: 'ok', result: 'ran', status: 'CLOSED' },
      { call: 'ok', times: 5, result: 'ran', status: 'CLOSED' },
    ],
  },
  {
    name: 'a failed probe re-opens for twice as long, capped at maxMs',
    options: base,
    steps: [
      { call: 'fail', times: 10, result: 'ran', status: 'OPEN', openFor: 10_000 },
      { advance: 10_000, status: 'HALF_OPEN' },
      { call: 'fail', result: 'ran', status: 'OPEN', openFor: 20_000 },
      { advance: 20_000, status: 'HALF_OPEN' },
      { call: 'fail', result: 'ran', status: 'OPEN', openFor: 35_000 },
      { advance: 35_000, status: 'HALF_OPEN' },
      { call: 'fail', result: 'ran', status: 'OPEN', openFor: 35_000 },
      { advance: 35_000, call: 'ok', result: 'ran', status: 'CLOSED' },
    ],
  },
  {
    name: 're-opening soon after closing keeps growing; a healthy spell forgives it',
    options: base,
    steps: [
      { call: 'fail', times: 10, result: 'ran', status: 'OPEN', openFor: 10_000 },
      { advance: 10_000, call: 'ok', result: 'ran', status: 'CLOSED' },
      { call: 'fail', times: 10, result: 'ran', status: 'OPEN', openFor: 20_000 },
      { advance: 20_000, call: 'ok', result: 'ran', status: 'CLOSED' },
      { advance: 60_000, status: 'CLOSED' },
      { call: 'fail', times: 10, result: 'ran', status: 'OPEN', openFor: 10_000 },
    ],
  },
  {
    name: 'a probe answering 4xx counts as healthy and closes',
    options: base,
    steps: [
      { call: 'fail', times: 10, result: 'ran', status: 'OPEN' },
      { advance: 10_000, call: '4xx', result: 'ran', status: 'CLOSED' },
    ],
  },
  {
    name: 'isolate rejects with "isolated" and never half-opens; reset closes',
    options: base,
    steps: [
      { op: 'isolate', status: 'OPEN' },
      { call: 'ok', result: 'isolated', status: 'OPEN' },
      { advance: 1_000_000, call: 'ok', result: 'isolated', status: 'OPEN' },
      { op: 'reset', status: 'CLOSED' },
      { call: 'ok', result: 'ran', status: 'CLOSED' },
    ],
  },
  {
    name: 'a time window forgets failures older than its duration',
    options: { ...base, window: { type: 'time', durationMs: 10_000, bucketMs: 1_000 }, minimumCalls: 4 },
    steps: [
      { call: 'fail', times: 3, result: 'ran', status: 'CLOSED' },
      { advance: 11_000, call: 'fail', result: 'ran', status: 'CLOSED' },
      { call: 'ok', times: 2, result: 'ran', status: 'CLOSED' },
      { call: 'fail', result: 'ran', status: 'OPEN' },
    ],
  },
  {
    name: 'with two probes allowed, two successes are needed to close',
    options: { ...base, halfOpen: { maxProbes: 2, successesToClose: 2, leaseMs: 5_000 } },
    steps: [
      { call: 'fail', times: 10, result: 'ran', status: 'OPEN' },
      { advance: 10_000, call: 'ok', result: 'ran', status: 'HALF_OPEN' },
      { call: 'ok', result: 'ran', status: 'CLOSED' },
    ],
  },
];

const modes: [string, (clock: ManualClock) => TableStore | undefined][] = [
  ['local-only', () => undefined],
  ['shared (memory table)', (clock) => new MemoryTableStore({ clock })],
];

describe.each(modes)('circuit breaker state machine, %s', (_mode, makeStore) => {
  it.each(scenarios.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
    const clock = new ManualClock();
    const breaker = makeBreaker(clock, scenario.options, makeStore(clock));
    for (const [index, step] of scenario.steps.entries()) {
      const where = `step ${index + 1}`;
      if (step.advance) await clock.advance(step.advance);
      if (step.op === 'isolate') await breaker.isolate();
      if (step.op === 'reset') await breaker.reset();
      if (step.call) {
        const results: CallResult[] = [];
        for (let i = 0; i < (step.times ?? 1); i++) {
          results.push(await callOnce(breaker, dependency(clock, step.call, step.slowMs)));
          await breaker.flush();
        }
        if (step.result) expect(results, where).toEqual(results.map(() => step.result));
      }
      expect(breaker.status, where).toBe(step.status);
      if (step.openFor !== undefined) {
        const state = breaker.toJSON();
        expect(state.state === 'OPEN' ? state.openUntil! - clock.now() : null, where).toBe(step.openFor);
      }
    }
  });
});
