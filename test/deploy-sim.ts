/**
 * In-memory rollout helpers: a simulated world (ManualClock, MemoryTableStore, SimulatedFunctionsPlatform) and a
 * driver that advances the manual clock until a rollout settles. No server and no child process, so unit tests
 * (test/unit/) import them from here.
 */
import { type Clock, uniqueIndexesOf } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import {
  deploymentTables,
  type RolloutEvent,
  RolloutOrchestrator,
  type RolloutOrchestratorOptions,
  type RolloutPolicyInput,
} from 'resilience-core/deployment';
import { ManualClock, SimulatedFunctionsPlatform } from 'resilience-core/testing';

/** A fast policy for simulated rollouts (ms of the manual clock). */
export const fastPolicy: RolloutPolicyInput = {
  buildTimeoutMs: 60_000,
  buildPollInitialMs: 500,
  buildPollMaxMs: 2_000,
  watchWindowMs: 30_000,
  watchIntervalMs: 5_000,
  minSamples: 10,
  maxProbesPerInterval: 10,
  lockTtlMs: 20_000,
};

/** A simulated world: clock, store, platform with `app` (blue active) and its twin `app-standby`. */
export function simWorld() {
  const clock = new ManualClock();
  const store = new MemoryTableStore({ clock, unique: uniqueIndexesOf(deploymentTables) });
  const platform = new SimulatedFunctionsPlatform({ clock });
  platform.addFunction('app');
  platform.addFunction('app-standby', { execute: [] });
  const blue = platform.seedActive('app', { version: 'v1' });
  platform.seedActive('app-standby', { version: 'v1' });
  const events: RolloutEvent[] = [];
  const orchestrator = (options: Partial<RolloutOrchestratorOptions> = {}) =>
    new RolloutOrchestrator({
      store,
      platform,
      clock,
      random: () => 0.5,
      onEvent: (e) => events.push(e),
      ...options,
    });
  return { clock, store, platform, blue, events, orchestrator };
}

/** Drives the manual clock until `promise` settles (bounded), letting all pending I/O run between steps. */
export async function settle<T>(
  clock: Clock & { advance(ms: number): Promise<void> },
  promise: Promise<T>,
  maxMs = 30 * 60_000,
): Promise<T> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
  promise.then(
    (value) => {
      outcome = { ok: true, value };
    },
    (error: unknown) => {
      outcome = { ok: false, error };
    },
  );
  for (let elapsed = 0; elapsed <= maxMs; elapsed += 100) {
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    const settled = outcome as { ok: true; value: T } | { ok: false; error: unknown } | null;
    if (settled) {
      if (settled.ok) return settled.value;
      throw settled.error;
    }
    await clock.advance(100);
  }
  throw new Error(`did not settle within ${maxMs} ms of manual time`);
}

/** Lets pending promises run (no time passes). */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** The sequence of statuses a rollout went through, from its events (consecutive duplicates collapsed). */
export function statusPath(events: readonly RolloutEvent[], rolloutId: string): string[] {
  const out: string[] = [];
  for (const e of events) if (e.rolloutId === rolloutId && out.at(-1) !== e.status) out.push(e.status);
  return out;
}
