import { newId } from '../ids.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { TableStore } from '../ports/table-store.ts';
import { CircuitBreaker, type Fallback } from './circuit-breaker.ts';
import type { CircuitEvent, CircuitSnapshot } from './metrics.ts';
import type { CircuitBreakerOptions } from './options.ts';
import { circuitBreakerPresets, isPresetName } from './presets.ts';
import { circuitBreakerKey } from './shared-circuit-store.ts';

/** What a registry builds its breakers over. */
export interface CircuitBreakerRegistryOptions {
  /**
   * Shared state for every breaker (omit for per-process breakers, e.g. in unit tests). Pass a function to keep
   * the registry warm across executions while each execution supplies its own store.
   */
  store?: TableStore | (() => TableStore);
  clock?: Clock;
  /** Options for names that are not presets (a preset's own settings win for preset names). */
  defaults?: CircuitBreakerOptions;
  /** Options per breaker name, merged over the preset or the defaults. */
  overrides?: Record<string, CircuitBreakerOptions>;
  /** Receives every breaker's events (e.g. for logs or a metrics endpoint). */
  onEvent?: (event: CircuitEvent) => void;
}

/**
 * Breakers by name (and organization), created on first use from the presets or the defaults, one instance
 * per process so every call in an execution shares its cache and buffers.
 */
export class CircuitBreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly instanceId = newId();

  constructor(private readonly config: CircuitBreakerRegistryOptions = {}) {}

  /** The breaker called `name` (per organization when `scope` is given). */
  get(name: string, scope?: string | null): CircuitBreaker {
    const key = circuitBreakerKey(name, scope);
    let breaker = this.breakers.get(key);
    if (!breaker) {
      const base = isPresetName(name) ? circuitBreakerPresets[name] : (this.config.defaults ?? {});
      const options: CircuitBreakerOptions = { ...base, ...(this.config.overrides?.[name] ?? {}) };
      breaker = new CircuitBreaker(name, options, {
        ...(this.config.store ? { store: this.config.store } : {}),
        clock: this.config.clock ?? systemClock,
        scope: scope ?? null,
        instanceId: this.instanceId,
      });
      const onEvent = this.config.onEvent;
      if (onEvent) breaker.on(onEvent);
      this.breakers.set(key, breaker);
    }
    return breaker;
  }

  /** Runs `fn` through the named breaker; `fallback` answers when it rejects or `fn` fails. */
  call<T>(name: string, fn: (signal?: AbortSignal) => Promise<T> | T, fallback?: Fallback<T>): Promise<T> {
    return this.get(name).execute(fn, fallback === undefined ? undefined : { fallback });
  }

  /** Every breaker's snapshot (for a metrics endpoint). */
  snapshot(): CircuitSnapshot[] {
    return [...this.breakers.values()].map((b) => b.snapshot());
  }

  /** Flushes every breaker's buffered outcomes (call before the execution ends). */
  async flush(): Promise<void> {
    await Promise.all([...this.breakers.values()].map((b) => b.flush()));
  }
}

let defaultRegistry: CircuitBreakerRegistry | null = null;

/**
 * Sets up the registry behind {@link callWithCircuitBreaker}. Call it once per cold start with the TableStore,
 * so breaker state is shared by every execution; without it breakers are per-process.
 */
export function configureCircuitBreakers(options: CircuitBreakerRegistryOptions): CircuitBreakerRegistry {
  defaultRegistry = new CircuitBreakerRegistry(options);
  return defaultRegistry;
}

/** The registry behind {@link callWithCircuitBreaker} (a per-process one until configured). */
export function circuitBreakers(): CircuitBreakerRegistry {
  defaultRegistry ??= new CircuitBreakerRegistry();
  return defaultRegistry;
}

/**
 * The seed's entry point: runs `fn` through the breaker called `name` (a preset — `slack`, `teams`, `email`,
 * `database`, `storage` — or any name, with the registry's defaults); `fallback` (a value, or a function of the
 * error) answers when the breaker rejects or `fn` fails. Unlike the seed, the state is shared fleet-wide once
 * {@link configureCircuitBreakers} was given a store.
 */
export function callWithCircuitBreaker<T>(
  name: string,
  fn: (signal?: AbortSignal) => Promise<T> | T,
  fallback?: Fallback<T>,
): Promise<T> {
  return circuitBreakers().call(name, fn, fallback);
}
