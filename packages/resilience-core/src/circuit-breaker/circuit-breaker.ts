import { describeError } from '../error-classification.ts';
import { errors, hasCode, ResilienceError } from '../errors.ts';
import { newId } from '../ids.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { TableStore } from '../ports/table-store.ts';
import { withTimeout } from '../retry/timeout.ts';
import {
  type CircuitState,
  type CircuitStatus,
  circuitStatus,
  initialCircuitState,
} from './circuit-state.ts';
import { CircuitTelemetry } from './circuit-telemetry.ts';
import type {
  CircuitCounters,
  CircuitEvent,
  CircuitSnapshot,
  CircuitTransition,
  RejectionReason,
} from './metrics.ts';
import {
  breakerNameSchema,
  breakerScopeSchema,
  type CircuitBreakerOptions,
  openDurationFor,
  type ResolvedCircuitBreakerOptions,
  resolveCircuitBreakerOptions,
} from './options.ts';
import { OutcomeBuffer } from './outcome-buffer.ts';
import { ProbeGate } from './probe-gate.ts';
import {
  circuitBreakerKey,
  type DistributiveOmit,
  type IoPhase,
  isLostRace,
  type ProbeLease,
  SharedCircuitStore,
} from './shared-circuit-store.ts';
import { judgeWindow, LocalWindow, type WindowCounts } from './window.ts';

/** A fallback: a value, or a function of the error (a rejection or the call's own error). */
export type Fallback<T> = T | ((error: unknown) => T | Promise<T>);

/** Per-call options of {@link CircuitBreaker.execute}. */
export interface ExecuteOptions<T> {
  /** Answers instead of throwing when the breaker rejects or the call fails. A function is called with the error. */
  fallback?: Fallback<T>;
  /** Aborts the call (passed on to `fn`). */
  signal?: AbortSignal;
}

/** What a breaker is built over; all optional. */
export interface CircuitBreakerDeps {
  /**
   * Shared state. Without it the breaker is per-process ("local-only"), which on Appwrite protects little.
   * A function is called before each storage operation: a breaker kept warm across executions can then use
   * each execution's own store (its dynamic API key expires with the execution).
   */
  store?: TableStore | (() => TableStore);
  /** Time source. Default the system clock. */
  clock?: Clock;
  /** Organization (team id) for a per-organization breaker; `null`/absent for one global breaker. */
  scope?: string | null;
  /** State to start from (a `toJSON()` result). In shared mode the stored state replaces it on first use. */
  initialState?: CircuitState;
  /** This process's id in probe leases. Default a new id. */
  instanceId?: string;
}

type Next = DistributiveOmit<CircuitState, 'version'>;
type Admission = { kind: 'call' } | { kind: 'probe'; version: number; lease: ProbeLease | null };
const CALL: Admission = { kind: 'call' };
/** Hot-path calls reading the same millisecond in a row before the time is reused for the rest of the turn. */
const TURN_REUSE_AFTER = 8;

/**
 * A circuit breaker whose state is shared by every execution through a TableStore.
 *
 * - Closed hot path: no storage round trip. State is cached for `cacheTtlMs`, then re-read in the background
 *   while calls keep flowing on the cached value. Outcomes go to an in-process buffer, flushed in the background
 *   as atomic increments of per-bucket counters, so concurrent executions add up instead of overwriting.
 * - A failure (or slow call) starts a background check of the fleet-wide window; when this execution's own
 *   projection says the threshold is crossed, callers wait for that check ("a transition is due").
 * - Transitions are written with a version compare-and-set; OPEN → HALF_OPEN is derived from the clock, so it
 *   needs neither a write nor a timer. Each half-open probe slot is a row created by exactly one execution,
 *   under a lease another execution takes over once it expires.
 * - If the store is unreachable the breaker follows `onStoreUnavailable` and reports it (snapshot + event).
 *
 * Call {@link flush} before an execution ends, so buffered outcomes reach the table.
 *
 * This file keeps the hot path and the state decisions; the outcome buffer (`outcome-buffer.ts`), the local
 * probe gate (`probe-gate.ts`), telemetry (`circuit-telemetry.ts`) and shared-state I/O
 * (`shared-circuit-store.ts`) live beside it.
 */
export class CircuitBreaker {
  /** The breaker's name (e.g. `slack`). */
  readonly name: string;
  /** The shared row id (name plus scope). */
  readonly key: string;
  /** The organization of a per-organization breaker, else `null`. */
  readonly scope: string | null;
  /** Resolved options. */
  readonly options: ResolvedCircuitBreakerOptions;

  private readonly clock: Clock;
  private readonly shared: SharedCircuitStore | null;
  private state: CircuitState;
  private lastStatus: CircuitStatus;
  private loaded: boolean;
  /** Calls may take the fast path while `now < freshUntil`. */
  private freshUntil: number;
  private fastPathAllowed = false;
  /** `freshUntil` while the fast path is allowed, else -Infinity: the hot path's one comparison. */
  private fastUntil = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | null = null;
  /** The start time of the latest admitted call (outcomes without a duration are bucketed by it). */
  private lastStart = 0;
  /** Whether the hot path may use {@link startTurn} time (only over the system clock; tests' clocks are exact). */
  private readonly turnClock: boolean;
  private turnTime = -1;
  /** The hot path's last clock read, and how many reads in a row returned it (see {@link startTurn}). */
  private lastRead = -1;
  private sameMillisecondReads = 0;
  // Hot-path copies of options.
  private readonly bucketMs: number;
  private readonly callTimeoutMs: number | undefined;
  private readonly slowCallDurationMs: number | undefined;
  /** Neither a call timeout nor slow-call durations: a call needs no timer and no clock read. */
  private readonly plainCalls: boolean;
  /** A transition may be due (the window crossed the threshold): callers wait for the fleet-wide check. */
  private transitionDue = false;
  /** Bumped whenever a transition becomes due, so a run that started before keeps it due. */
  private transitionDueSeq = 0;

  /** This execution's own window (decisions without a store, or while it is unreachable). */
  private readonly local: LocalWindow;
  /** The fleet-wide window as this execution knows it, and the unflushed outcomes of `state.version`. */
  private readonly outcomes: OutcomeBuffer;
  /** Whether the local window takes successes as a pending run ({@link LocalWindow.recordOk}). */
  private readonly lazySuccesses: boolean;
  /** The background run in flight (state refresh, outcome flush, window check), if any. */
  private backgroundRun: Promise<void> | null = null;
  /** When the running background run started. */
  private backgroundStartedAt = Number.NEGATIVE_INFINITY;
  /** Another run was asked for while one was in flight: start it when that one ends. */
  private backgroundRerun = false;
  /** The start time of the latest background run whose state read settled (ok or failed). */
  private refreshedAt = Number.NEGATIVE_INFINITY;
  /** A background run a rejection already waited `refreshBeforeRejectMs` for: later rejections don't wait on it. */
  private refreshGaveUpOn: Promise<void> | null = null;
  private needWindowRead = false;

  private readonly probes: ProbeGate;
  /** The stored version a local-only state diverged from while the store was unreachable. */
  private divergedFrom: number | null = null;

  private storage: CircuitSnapshot['storage'];
  private readonly telemetry = new CircuitTelemetry();
  /** The telemetry's counters, bumped directly on the hot path. */
  private readonly counters: CircuitCounters = this.telemetry.counters;

  constructor(name: string, options: CircuitBreakerOptions = {}, deps: CircuitBreakerDeps = {}) {
    const parsedName = breakerNameSchema.safeParse(name);
    if (!parsedName.success) {
      throw errors.invalidInput('Invalid circuit breaker name', [
        { path: 'name', message: 'invalid breaker name' },
      ]);
    }
    if (
      deps.scope !== undefined &&
      deps.scope !== null &&
      !breakerScopeSchema.safeParse(deps.scope).success
    ) {
      throw errors.invalidInput('Invalid circuit breaker scope', [
        { path: 'scope', message: 'scope must be 1–64 characters' },
      ]);
    }
    this.name = name;
    this.scope = deps.scope ?? null;
    this.key = circuitBreakerKey(name, this.scope);
    this.options = resolveCircuitBreakerOptions(options);
    this.bucketMs = this.options.window.bucketMs;
    this.callTimeoutMs = this.options.callTimeoutMs;
    this.slowCallDurationMs = this.options.slowCallDurationMs;
    this.plainCalls = this.callTimeoutMs === undefined && this.slowCallDurationMs === undefined;
    this.clock = deps.clock ?? systemClock;
    this.turnClock = this.clock === systemClock;
    this.shared = deps.store
      ? new SharedCircuitStore(deps.store, this.key, name, this.scope, deps.instanceId ?? newId(), (phase) =>
          this.telemetry.countRoundTrip(phase),
        )
      : null;
    this.state = deps.initialState ?? initialCircuitState(this.clock.now());
    this.lastStatus = circuitStatus(this.state, this.clock.now());
    this.loaded = this.shared === null;
    this.freshUntil = this.shared ? 0 : Number.POSITIVE_INFINITY;
    this.local = new LocalWindow(this.options.window);
    this.lazySuccesses = this.local.lazyOk;
    this.outcomes = new OutcomeBuffer(this.bucketMs);
    this.probes = new ProbeGate(this.options.halfOpen.maxProbes);
    this.storage = {
      mode: this.shared ? 'shared' : 'local-only',
      status: 'ok',
      since: null,
      lastError: null,
    };
    this.updateFast();
  }

  /**
   * Runs `fn` through the breaker. Rejections are CIRCUIT_OPEN errors whose `details.reason` says why
   * (`open`, `isolated`, `half-open-full`, `store-unavailable`) with `retryAfterSeconds` when known; a call
   * over `callTimeoutMs` fails with TIMEOUT. With `fallback`, both answer with the fallback instead.
   */
  execute<T>(fn: (signal?: AbortSignal) => Promise<T> | T, options?: ExecuteOptions<T>): Promise<T> {
    // Not an async function: the hot path returns runCall's promise as is, without another promise layer.
    let start = this.turnTime;
    if (start < 0) start = this.turnClock ? this.startTurn() : this.clock.now();
    if (start < this.fastUntil) return this.runCall(fn, options, start);
    return this.executeSlow(fn, options, this.clock.now());
  }

  /**
   * The system time for the hot path. A clock read costs about as much as the rest of the hot path, so within
   * a burst of calls in one event-loop turn the time is read once and reused until the turn ends (a
   * `setImmediate` marks the end). Scheduling that costs several clock reads, so the reuse starts only once
   * {@link TURN_REUSE_AFTER} calls in a row read the same millisecond: calls spread over turns (the usual case:
   * one call per request, between I/O) pay one clock read each and schedule nothing. Sound for the cache-TTL
   * check because nothing that changes shared state can be observed before the turn ends: that takes I/O.
   * Durations (slow calls) and every state decision off the hot path read the clock itself.
   */
  private startTurn(): number {
    const now = this.clock.now();
    if (now !== this.lastRead) {
      this.lastRead = now;
      this.sameMillisecondReads = 0;
    } else if (++this.sameMillisecondReads >= TURN_REUSE_AFTER) {
      this.turnTime = now;
      setImmediate(this.endTurn);
    }
    return now;
  }

  private readonly endTurn = (): void => {
    this.turnTime = -1;
    this.sameMillisecondReads = 0;
  };

  private async executeSlow<T>(
    fn: (signal?: AbortSignal) => Promise<T> | T,
    options: ExecuteOptions<T> | undefined,
    start: number,
  ): Promise<T> {
    let admission: Admission;
    try {
      admission = await this.admit(start);
    } catch (rejection) {
      return this.fallbackOr(rejection, options);
    }
    return admission.kind === 'call'
      ? this.runCall(fn, options, start)
      : this.runProbe(fn, options, admission);
  }

  /** The state callers see now. */
  get status(): CircuitStatus {
    return circuitStatus(this.state, this.clock.now());
  }

  /** The serialisable state (for `initialState`, or a metrics endpoint). */
  toJSON(): CircuitState {
    return { ...this.state };
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: (event: CircuitEvent) => void): () => void {
    return this.telemetry.on(listener);
  }

  /** Counters, state, last transitions and storage health, JSON-serialisable. */
  snapshot(): CircuitSnapshot {
    const now = this.clock.now();
    const s = this.state;
    return {
      name: this.name,
      key: this.key,
      scope: this.scope,
      state: circuitStatus(s, now),
      version: s.version,
      changedAt: s.changedAt,
      openUntil: s.state === 'OPEN' ? s.openUntil : null,
      isolated: s.state === 'OPEN' && s.isolated,
      window: this.windowTotals(now),
      ...this.telemetry.snapshot(),
      storage: { ...this.storage },
    };
  }

  /** Forces the breaker open for every execution until {@link reset} (rejections say `isolated`). */
  async isolate(reason = 'isolated by operator'): Promise<void> {
    await this.force(
      (s, now) => ({
        state: 'OPEN',
        changedAt: now,
        openUntil: null,
        isolated: true,
        reopenCount: s.state === 'OPEN' ? s.reopenCount : 0,
        reason: reason.slice(0, 256),
      }),
      reason,
    );
  }

  /** Closes the breaker for every execution and forgives past re-openings. */
  async reset(): Promise<void> {
    await this.force((_s, now) => ({ state: 'CLOSED', changedAt: now, reopenCount: 0 }), 'reset by operator');
  }

  /** Waits for background work and writes buffered outcomes to the shared table (call before an execution ends). */
  async flush(): Promise<void> {
    if (!this.shared) return;
    if (this.outcomes.pendingBuckets > 0 && this.storage.status === 'ok') this.kick(false);
    while (this.backgroundRun) await this.backgroundRun;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Calls

  /**
   * Runs an admitted call. Not async on purpose: the caller gets `fn`'s own promise back (or one derived
   * promise when there is a fallback), and the outcome is recorded by a reaction registered before the
   * caller's, so recording adds no promise layer to the call.
   */
  private runCall<T>(
    fn: (signal?: AbortSignal) => Promise<T> | T,
    options: ExecuteOptions<T> | undefined,
    start: number,
  ): Promise<T> {
    this.counters.calls++;
    this.lastStart = start;
    if (options === undefined && this.plainCalls) {
      // The common case: no timeout, no duration, no fallback — `fn`'s own promise, one reaction to record it.
      let plain: Promise<T>;
      try {
        const result = fn();
        plain = result instanceof Promise ? result : Promise.resolve(result);
      } catch (error) {
        plain = Promise.reject(error);
      }
      plain.then(this.onSettledOk, this.onSettledError);
      return plain;
    }
    let promise: Promise<T>;
    try {
      promise = Promise.resolve(
        this.callTimeoutMs === undefined
          ? fn(options?.signal)
          : withTimeout(fn, this.callTimeoutMs, this.timeoutOptions(options?.signal)),
      );
    } catch (error) {
      promise = Promise.reject(error);
    }
    if (this.slowCallDurationMs === undefined) promise.then(this.onSettledOk, this.onSettledError);
    else {
      // Durations need the call's own start, not the turn's.
      const t0 = this.turnClock ? this.clock.now() : start;
      promise.then(
        () => this.settleSuccess(t0),
        (error: unknown) => this.settleFailure(error, t0),
      );
    }
    if (options === undefined || options.fallback === undefined) return promise;
    return promise.catch((error: unknown) => this.fallbackOr(error, options));
  }

  /**
   * Success without duration measurement: no clock read; the outcome goes to the bucket of the latest call start.
   * Same effect as `record(lastStart, 0)`, written out for the hot path: a count window takes the success as a
   * pending run (one increment), and the flush buffer's current bucket is bumped in place.
   */
  private readonly onSettledOk = (): void => {
    this.counters.successes++;
    if (this.state.state !== 'CLOSED') return;
    if (this.lazySuccesses) this.local.recordOk();
    else this.local.record(this.lastStart, 0);
    if (this.shared !== null) this.outcomes.addOk(this.lastStart);
  };

  private readonly onSettledError = (error: unknown): void => {
    this.settleFailure(error, undefined);
  };

  private settleSuccess(start: number): void {
    const end = this.clock.now();
    this.counters.successes++;
    if (end - start >= this.options.slowCallDurationMs!) {
      this.counters.slowCalls++;
      this.record(end, 2);
    } else this.record(end, 0);
  }

  private settleFailure(error: unknown, start: number | undefined): void {
    const end = this.clock.now();
    const slowMs = this.options.slowCallDurationMs;
    const slow = start !== undefined && slowMs !== undefined && end - start >= slowMs;
    if (slow) this.counters.slowCalls++;
    const timeout = hasCode(error, 'TIMEOUT');
    if (timeout) this.counters.timeouts++;
    if (!this.options.isFailure(error)) {
      this.counters.ignoredErrors++;
      this.record(end, slow ? 2 : 0);
      return;
    }
    this.counters.failures++;
    if (this.telemetry.listening) {
      const durationMs = start === undefined ? null : end - start;
      this.telemetry.emit({ type: 'failure', breaker: this.name, at: end, durationMs, timeout, error });
    }
    this.record(end, slow ? 3 : 1);
  }

  /** Records one outcome (kind: 0 ok, 1 fail, 2 slow ok, 3 slow fail) locally and in the flush buffer. */
  private record(now: number, kind: number): void {
    if (this.state.state !== 'CLOSED') return;
    this.local.record(now, kind);
    if (this.shared) this.outcomes.add(now, kind);
    if (kind !== 0) this.onBadOutcome(now);
  }

  private onBadOutcome(now: number): void {
    if (!this.shared || this.storage.status === 'unreachable') {
      // Local decisions: no store, or it is unreachable (in fail-open/fail-closed the state does not matter).
      const verdict = judgeWindow(this.local.totals(now), this.options);
      if (verdict) this.applyLocal(this.openingFrom(now, verdict), verdict);
      return;
    }
    // Due when the fleet-wide projection crosses the threshold, or when this execution's own recent calls fail
    // at the threshold rate (the rest of the fleet is likely seeing the same): then this execution's next
    // calls wait for the fleet-wide check instead of adding to a failing dependency's load.
    if (
      !this.transitionDue &&
      (judgeWindow(this.projection(now), this.options) || this.localRateCrosses(now))
    ) {
      this.transitionDue = true;
      this.transitionDueSeq++;
      this.updateFast();
    }
    this.kick(true);
  }

  private localRateCrosses(now: number): boolean {
    const t = this.local.totals(now);
    if (t.calls === 0) return false;
    if ((t.failures / t.calls) * 100 + 1e-9 >= this.options.failureRateThreshold) return true;
    return (
      this.slowCallDurationMs !== undefined &&
      (t.slow / t.calls) * 100 + 1e-9 >= this.options.slowCallRateThreshold
    );
  }

  private async runProbe<T>(
    fn: (signal?: AbortSignal) => Promise<T> | T,
    options: ExecuteOptions<T> | undefined,
    admission: Extract<Admission, { kind: 'probe' }>,
  ): Promise<T> {
    this.counters.calls++;
    this.counters.probes.admitted++;
    const limit = Math.min(
      this.options.halfOpen.leaseMs,
      this.options.callTimeoutMs ?? Number.POSITIVE_INFINITY,
    );
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    try {
      value = await withTimeout(fn, limit, this.timeoutOptions(options?.signal, 'probe'));
    } catch (e) {
      error = e;
      if (hasCode(e, 'TIMEOUT')) this.counters.timeouts++;
      failed = this.options.isFailure(e);
      if (!failed) this.counters.ignoredErrors++;
    }
    const now = this.clock.now();
    if (failed) {
      this.counters.failures++;
      this.counters.probes.failed++;
      await this.probeFailed(admission, now, describeError(error));
      return this.fallbackOr(error, options);
    }
    if (error === undefined) this.counters.successes++;
    this.counters.probes.succeeded++;
    await this.probeSucceeded(admission, now);
    return error === undefined ? (value as T) : this.fallbackOr(error, options);
  }

  private async fallbackOr<T>(error: unknown, options: ExecuteOptions<T> | undefined): Promise<T> {
    if (options === undefined || options.fallback === undefined) throw error;
    this.counters.fallbacks++;
    const fallback = options.fallback;
    return typeof fallback === 'function' ? (fallback as (e: unknown) => T | Promise<T>)(error) : fallback;
  }

  private timeoutOptions(signal: AbortSignal | undefined, what = `call to ${this.name}`) {
    return signal ? { clock: this.clock, signal, what } : { clock: this.clock, what };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Admission (the slow path: cold cache, stale cache, a due transition, OPEN or HALF_OPEN)

  private async admit(start: number): Promise<Admission> {
    let now = start;
    if (!this.loaded) {
      // Concurrent first calls of a cold execution share one state read.
      this.loading ??= this.load(now);
      await this.loading;
    } else if (now >= this.freshUntil) {
      // One refresh per expiry: a run started since the cache went stale already reads a fresh enough state.
      if (!this.backgroundRun || this.backgroundStartedAt < this.freshUntil) this.kick(false);
      // Rejecting is not a hot path: before turning a call away on a stale OPEN state, look at the shared one
      // (an operator's reset, or another execution's close, would otherwise be missed for a cache TTL).
      if (this.wouldReject(now)) {
        await this.refreshBeforeRejecting(now);
        now = this.clock.now();
      }
    }
    // A transition is due: wait for the fleet-wide check instead of sending more calls to a failing dependency.
    for (let i = 0; i < 3 && this.transitionDue && this.backgroundRun; i++) await this.backgroundRun;
    if (this.shared && this.storage.status === 'unreachable') {
      if (this.options.onStoreUnavailable === 'fail-open') return CALL;
      if (this.options.onStoreUnavailable === 'fail-closed') throw this.rejection('store-unavailable', now);
    }
    const status = this.observe(now);
    if (status === 'CLOSED') return CALL;
    if (status === 'OPEN') {
      throw this.rejection(this.state.state === 'OPEN' && this.state.isolated ? 'isolated' : 'open', now);
    }
    return this.admitProbe(now, true);
  }

  /** Whether the cached state alone turns a call away at `now` (OPEN, isolated, or a fail-closed outage). */
  private wouldReject(now: number): boolean {
    if (!this.shared) return false;
    if (this.storage.status === 'unreachable') {
      if (this.options.onStoreUnavailable === 'fail-closed') return true;
      if (this.options.onStoreUnavailable === 'fail-open') return false;
    }
    return circuitStatus(this.state, now) === 'OPEN';
  }

  /**
   * Waits, at most `refreshBeforeRejectMs`, until a background state read started at or after `since` has
   * settled. A read that outlasts the bound is not waited for again by later calls (they reject on the cached
   * state at once), so a hanging store costs one bounded wait per refresh, not one per call.
   */
  private async refreshBeforeRejecting(since: number): Promise<void> {
    const ms = this.options.refreshBeforeRejectMs;
    if (ms <= 0 || !this.backgroundRun || this.refreshGaveUpOn === this.backgroundRun) return;
    this.counters.refreshesBeforeReject.waited++;
    const timer = new AbortController();
    let timedOut = false;
    const deadline = this.clock.sleep(ms, timer.signal).then(
      () => {
        timedOut = true;
      },
      () => undefined,
    );
    try {
      // A run already under way may have read before `since`; the re-armed run after it has not.
      for (let i = 0; i < 3 && this.refreshedAt < since; i++) {
        // Read afresh on every turn: the run in flight changes across awaits.
        const bg = this.backgroundRun;
        if (!bg) return;
        await Promise.race([bg.catch(() => undefined), deadline]);
        if (timedOut) {
          this.refreshGaveUpOn = bg;
          this.counters.refreshesBeforeReject.timedOut++;
          return;
        }
      }
    } finally {
      timer.abort();
    }
  }

  private async admitProbe(now: number, mayRefresh: boolean): Promise<Admission> {
    const version = this.state.version;
    const { maxProbes, leaseMs } = this.options.halfOpen;
    if (!this.shared || this.storage.status === 'unreachable') return this.admitLocalProbe(now);
    if (this.probes.isFull(now)) throw this.rejection('half-open-full', now);
    try {
      const lease = await this.shared.claimProbe(version, maxProbes, now, leaseMs, 'callPath');
      if (lease) return { kind: 'probe', version, lease };
      // Every slot is taken: the episode may already be over, so look before saying "full".
      const stored = await this.shared.readState('callPath');
      this.adopt(stored, now, 'observed');
      this.setFresh(now + this.options.cacheTtlMs);
    } catch (error) {
      this.markUnreachable(error, now);
      if (this.options.onStoreUnavailable === 'fail-open') return CALL;
      if (this.options.onStoreUnavailable === 'fail-closed') throw this.rejection('store-unavailable', now);
      return this.admitLocalProbe(now);
    }
    if (this.state.version !== version && mayRefresh) {
      const status = this.observe(now);
      if (status === 'CLOSED') return CALL;
      if (status === 'HALF_OPEN') return this.admitProbe(now, false);
      throw this.rejection(this.state.state === 'OPEN' && this.state.isolated ? 'isolated' : 'open', now);
    }
    // Don't ask the store again for every call: slots free up only when a lease expires or the state changes.
    this.probes.markFull(now + Math.max(1, Math.min(this.options.cacheTtlMs, leaseMs)));
    throw this.rejection('half-open-full', now);
  }

  private admitLocalProbe(now: number): Admission {
    const version = this.state.version;
    if (!this.probes.admitLocal(version)) throw this.rejection('half-open-full', now);
    return { kind: 'probe', version, lease: null };
  }

  private async probeSucceeded(p: Extract<Admission, { kind: 'probe' }>, now: number): Promise<void> {
    const closing: Next = {
      state: 'CLOSED',
      changedAt: now,
      reopenCount: this.state.state === 'OPEN' ? this.state.reopenCount + 1 : 0,
    };
    const needed = this.options.halfOpen.successesToClose;
    if (!this.shared || p.lease === null) {
      if (this.state.version !== p.version) return;
      const successes = this.probes.localSuccess(p.version);
      if (successes !== null && successes >= needed) this.applyLocal(closing, 'probes succeeded');
      return;
    }
    try {
      if (!(await this.shared.completeProbe(p.lease, 'success', 'callPath'))) {
        this.counters.probes.leaseLost++;
        return;
      }
      const successes = needed === 1 ? 1 : await this.shared.countProbeSuccesses(p.version, 'callPath');
      if (successes >= needed) await this.transition(p.version, closing, 'probes succeeded', now, 'callPath');
    } catch (error) {
      this.markUnreachable(error, now);
    }
  }

  private async probeFailed(
    p: Extract<Admission, { kind: 'probe' }>,
    now: number,
    why: string,
  ): Promise<void> {
    const reopenCount = this.state.state === 'OPEN' ? this.state.reopenCount + 1 : 0;
    const reason = `probe failed: ${why}`.slice(0, 256);
    const reopening: Next = {
      state: 'OPEN',
      changedAt: now,
      openUntil: now + openDurationFor(reopenCount, this.options.openDuration),
      isolated: false,
      reopenCount,
      reason,
    };
    if (!this.shared || p.lease === null) {
      if (this.state.version === p.version) this.applyLocal(reopening, reason);
      return;
    }
    try {
      await this.transition(p.version, reopening, reason, now, 'callPath');
    } catch (error) {
      this.markUnreachable(error, now);
      if (this.state.version === p.version) this.applyLocal(reopening, reason);
    }
  }

  private rejection(reason: RejectionReason, now: number): ResilienceError {
    this.counters.rejections[reason]++;
    const s = this.state;
    const openUntil = s.state === 'OPEN' ? s.openUntil : null;
    let retryAfterSeconds: number | undefined;
    if (reason === 'open' && openUntil !== null)
      retryAfterSeconds = Math.max(1, Math.ceil((openUntil - now) / 1000));
    else if (reason === 'half-open-full')
      retryAfterSeconds = Math.max(1, Math.ceil(this.options.cacheTtlMs / 1000));
    if (this.telemetry.listening)
      this.telemetry.emit({ type: 'rejection', breaker: this.name, reason, at: now });
    return new ResilienceError('CIRCUIT_OPEN', `Circuit "${this.name}" rejected the call (${reason})`, {
      details: {
        breaker: this.name,
        ...(this.scope ? { scope: this.scope } : {}),
        reason,
        state: circuitStatus(s, now),
        ...(openUntil !== null ? { openUntil: new Date(openUntil).toISOString() } : {}),
        ...(s.state === 'OPEN' && s.reason ? { openedBecause: s.reason } : {}),
      },
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Shared state

  private async load(now: number): Promise<void> {
    try {
      const stored = await this.shared!.readState('callPath');
      this.markOk(now);
      this.adopt(stored, now, 'observed');
    } catch (error) {
      this.markUnreachable(error, now);
    }
    this.loaded = true;
    this.setFresh(now + this.options.cacheTtlMs);
    this.updateFast();
  }

  /** Starts (or re-arms) the background runner: refresh state, flush outcomes, and check the window if asked. */
  private kick(readWindow: boolean): void {
    if (readWindow) this.needWindowRead = true;
    if (this.backgroundRun) {
      this.backgroundRerun = true;
      return;
    }
    this.backgroundStartedAt = this.clock.now();
    this.backgroundRun = this.background().finally(() => {
      this.backgroundRun = null;
      if (this.backgroundRerun) {
        this.backgroundRerun = false;
        this.kick(false);
      }
    });
  }

  private async background(): Promise<void> {
    const shared = this.shared!;
    const now = this.clock.now();
    const dueSeq = this.transitionDueSeq;
    try {
      // While the cached state is fresh and nothing is due, a run (e.g. an end-of-execution flush) only writes
      // the buffered outcomes: re-reading a state we read less than `cacheTtlMs` ago would be a wasted request.
      if (
        this.loaded &&
        now < this.freshUntil &&
        !this.needWindowRead &&
        !this.transitionDue &&
        this.divergedFrom === null &&
        this.state.state === 'CLOSED'
      ) {
        await this.flushPending();
        return;
      }
      // The state read and the outcome flush go out together (one round-trip time, not two).
      const flushing =
        this.state.state === 'CLOSED' && this.divergedFrom === null ? this.flushPending() : null;
      const [stored] = await Promise.all([shared.readState('background'), flushing]);
      this.refreshedAt = now;
      this.markOk(now);
      if (!(await this.reconcile(stored, now))) this.adopt(stored, now, 'observed');
      this.setFresh(now + this.options.cacheTtlMs);
      if (this.state.state !== 'CLOSED') return;
      if (!flushing) await this.flushPending();
      if (!this.needWindowRead && !this.transitionDue) return;
      this.needWindowRead = false;
      const version = this.state.version;
      const w = this.options.window;
      const since = w.type === 'time' ? now - w.durationMs - w.bucketMs : 0;
      const buckets = await shared.readOutcomes(version, since, 'background');
      if (this.state.version !== version) return;
      this.outcomes.adoptRemote(buckets);
      const at = this.clock.now();
      const verdict = judgeWindow(this.projection(at), this.options);
      if (verdict && this.state.state === 'CLOSED') {
        await this.transition(version, this.openingFrom(at, verdict), verdict, at, 'background');
      }
    } catch (error) {
      this.refreshedAt = Math.max(this.refreshedAt, now);
      this.markUnreachable(error, now);
      this.setFresh(now + this.options.cacheTtlMs);
      if (this.options.onStoreUnavailable === 'local') {
        const verdict =
          this.state.state === 'CLOSED' ? judgeWindow(this.local.totals(now), this.options) : null;
        if (verdict) this.applyLocal(this.openingFrom(now, verdict), verdict);
      }
    } finally {
      // A transition that became due during this run (after its window read) stays due for the next run.
      if (this.transitionDueSeq === dueSeq) this.transitionDue = false;
      this.updateFast();
    }
  }

  private async flushPending(): Promise<void> {
    if (this.outcomes.pendingBuckets === 0) return;
    const version = this.state.version;
    // Counted in projections until the next window read includes them.
    const batch = this.outcomes.take();
    // On failure these outcomes are dropped rather than re-added: a partial flush re-sent would double-count.
    await this.shared!.addOutcomes(version, batch, 'background');
  }

  /** After an outage with local transitions: write ours if the store still holds the state we diverged from. */
  private async reconcile(stored: CircuitState | null, now: number): Promise<boolean> {
    const base = this.divergedFrom;
    if (base === null) return false;
    this.divergedFrom = null;
    if ((stored?.version ?? 0) !== base) return false;
    const { version: _v, ...next } = this.state;
    await this.transition(base, next as Next, 'reconciled after storage outage', now, 'background');
    return true;
  }

  /** Writes a transition with compare-and-set; on a lost race, adopts what the winner wrote. */
  private async transition(expected: number, next: Next, reason: string, now: number, phase: IoPhase) {
    const shared = this.shared!;
    try {
      const written = await shared.writeTransition(expected, next, phase);
      this.adopt(written, now, 'local', reason);
    } catch (error) {
      if (!isLostRace(error)) throw error;
      this.adopt(await shared.readState(phase), now, 'observed');
    }
  }

  private async force(build: (s: CircuitState, now: number) => Next, reason: string): Promise<void> {
    const now = this.clock.now();
    if (!this.shared) {
      this.applyLocal(build(this.state, now), reason);
      return;
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await this.shared.readState('callPath');
      this.markOk(now);
      this.adopt(stored, now, 'observed');
      this.loaded = true;
      try {
        const written = await this.shared.writeTransition(
          this.state.version,
          build(this.state, now),
          'callPath',
        );
        this.adopt(written, now, 'local', reason);
        this.setFresh(now + this.options.cacheTtlMs);
        return;
      } catch (error) {
        if (!isLostRace(error)) throw error;
      }
    }
    throw errors.conflict(`Circuit "${this.name}" kept changing; ${reason} not applied`, {
      breaker: this.name,
    });
  }

  /** A local-only transition (no store, or the store is unreachable). */
  private applyLocal(next: Next, reason: string): void {
    if (this.shared && this.divergedFrom === null) this.divergedFrom = this.state.version;
    this.adopt(
      { ...next, version: this.state.version + 1 } as CircuitState,
      this.clock.now(),
      'local',
      reason,
    );
  }

  /** Makes `stored` the current state; a new version starts a fresh window and probe episode. */
  private adopt(
    stored: CircuitState | null,
    now: number,
    origin: CircuitTransition['origin'],
    reason?: string,
  ): void {
    const next = stored ?? initialCircuitState(this.state.version === 0 ? this.state.changedAt : now);
    if (stored === null && this.state.version === 0) return;
    const versionChanged = next.version !== this.state.version;
    if (!versionChanged && next.state === this.state.state) {
      this.state = next;
      return;
    }
    if (this.divergedFrom !== null && origin === 'observed') this.divergedFrom = null;
    this.state = next;
    if (versionChanged) {
      this.local.clear();
      this.outcomes.clear();
      this.probes.reopen();
      this.transitionDue = false;
    }
    this.observe(now, origin, reason);
    this.updateFast();
  }

  /** The status at `now`, emitting a transition when it differs from the last one seen (OPEN → HALF_OPEN included). */
  private observe(
    now: number,
    origin: CircuitTransition['origin'] = 'observed',
    reason?: string,
  ): CircuitStatus {
    const to = circuitStatus(this.state, now);
    const from = this.lastStatus;
    if (to === from) return to;
    this.lastStatus = to;
    const s = this.state;
    const why =
      reason ??
      (to === 'HALF_OPEN'
        ? 'open duration elapsed'
        : s.state === 'OPEN'
          ? s.reason
          : 'closed by another execution');
    this.telemetry.transition(this.name, { from, to, at: now, version: s.version, reason: why, origin });
    return to;
  }

  private openingFrom(now: number, reason: string): Next {
    const s = this.state;
    const forgiven = s.state !== 'CLOSED' || now - s.changedAt >= this.options.openDuration.resetAfterMs;
    const reopenCount = forgiven || s.version === 0 ? 0 : s.reopenCount;
    return {
      state: 'OPEN',
      changedAt: now,
      openUntil: now + openDurationFor(reopenCount, this.options.openDuration),
      isolated: false,
      reopenCount,
      reason: reason.slice(0, 256),
    };
  }

  /** Fleet-wide window as this execution last knew it, plus what it has seen since. */
  private projection(now: number): WindowCounts {
    return this.outcomes.projection(this.options.window, now);
  }

  private windowTotals(now: number): WindowCounts {
    if (this.shared && this.storage.status === 'ok') return this.projection(now);
    return this.local.totals(now);
  }

  private markUnreachable(error: unknown, now: number): void {
    if (isLostRace(error)) return;
    const message = describeError(error);
    this.storage.lastError = message;
    if (this.storage.status === 'unreachable') return;
    this.storage.status = 'unreachable';
    this.storage.since = now;
    this.updateFast();
    if (this.telemetry.listening) {
      this.telemetry.emit({
        type: 'storage',
        breaker: this.name,
        at: now,
        status: 'unreachable',
        error: message,
      });
    }
  }

  private markOk(now: number): void {
    if (this.storage.status === 'ok') return;
    this.storage.status = 'ok';
    this.storage.since = null;
    this.updateFast();
    if (this.telemetry.listening)
      this.telemetry.emit({ type: 'storage', breaker: this.name, at: now, status: 'ok' });
  }

  private updateFast(): void {
    const storeBlocks =
      this.shared !== null &&
      this.storage.status === 'unreachable' &&
      this.options.onStoreUnavailable === 'fail-closed';
    this.fastPathAllowed =
      this.loaded && this.state.state === 'CLOSED' && !this.transitionDue && !storeBlocks;
    this.fastUntil = this.fastPathAllowed ? this.freshUntil : Number.NEGATIVE_INFINITY;
  }

  private setFresh(until: number): void {
    this.freshUntil = until;
    this.fastUntil = this.fastPathAllowed ? until : Number.NEGATIVE_INFINITY;
  }
}
