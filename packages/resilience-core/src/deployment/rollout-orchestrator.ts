import { createHash } from 'node:crypto';
import { errors, hasCode } from '../errors.ts';
import { newId } from '../ids.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { CodeBundle, ExecutionInfo, FunctionsPlatform } from '../ports/functions-platform.ts';
import type { ListResult, TableStore } from '../ports/table-store.ts';
import { isProbeTimeout, mergeProbeTimeouts, messageOf, RolloutChecks } from './rollout-checks.ts';
import { parseRolloutPolicy } from './rollout-input.ts';
import { type RolloutEvent, RolloutJournal } from './rollout-journal.ts';
import { type HeldLock, type HolderGone, releaseRolloutLock, tryAcquireRolloutLock } from './rollout-lock.ts';
import { type RolloutPolicy, rolloutBackoffDelay } from './rollout-policy.ts';
import { preflightStart } from './rollout-preflight.ts';
import { findLatestRollout, findUnfinishedRollout, isFinishedOrMissing } from './rollout-queries.ts';
import {
  eventRowSchema,
  PRE_SWITCH_STATUSES,
  type RolloutRow,
  type RolloutStatus,
  rolloutRowSchema,
  TERMINAL_STATUSES,
} from './rollout-row.ts';
import { type RolloutView, toRolloutView } from './rollout-view.ts';
import type { SloGate } from './slo-gate.ts';
import { EVENTS_TABLE, LOCKS_TABLE, ROLLOUTS_TABLE } from './tables.ts';
import { evaluateWatch, type WatchSummary, watchSummarySchema } from './watch-analysis.ts';

export type { RolloutEvent };

/** Options of {@link RolloutOrchestrator}. */
export interface RolloutOrchestratorOptions {
  store: TableStore;
  platform: FunctionsPlatform;
  /** Default: the system clock. Tests pass a ManualClock. */
  clock?: Clock;
  /** Identity of this run (in the lock row). Default: a new random id. */
  owner?: string;
  /** Randomness for backoff jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Receives every history entry as it is written (live progress). Must not throw. */
  onEvent?: (event: RolloutEvent) => void;
  /** Id of a function's standby twin. Default `<functionId>-standby`. */
  standbyIdOf?: (functionId: string) => string;
  /** Tries per platform call on `RETRYABLE` failures, first included. Default 4. */
  platformAttempts?: number;
  /** Refuses rollouts of a function whose error budget is spent; fails a watch that burns fast (`slo-gate.ts`). */
  sloGate?: SloGate;
  /**
   * Proves a lock holder is gone (e.g. `npm run rollout` checks that the holder's process on this host is dead),
   * so `resume`, `start` and `requestRollback` take its lock over without waiting for its lease to end. Default:
   * nothing is proven, the lease is waited out. See {@link HolderGone}.
   */
  holderGone?: HolderGone;
}

/** Per-run options. */
export interface RunOptions {
  /**
   * Stop driving after this long (ms) at the next step boundary, leaving the rollout resumable with its lease
   * expired, so the next run continues at once (e.g. a function execution's time budget). Default: no limit.
   */
  maxRunMs?: number;
  /** Start even when the SLO gate finds the error budget exhausted (recorded in the first history entry). */
  forceSlo?: boolean;
}

/** Input of `resume`. */
export interface ResumeOptions extends RunOptions {
  /** The code again, if the interrupted run had not recorded its uploads yet (must be the same bytes). */
  code?: CodeBundle;
}

/** What `requestRollback` did. */
export interface RollbackOutcome {
  /** `performed`: this call drove the rollback (or abort) to its end; `requested`: a live run will act on it. */
  outcome: 'performed' | 'requested';
  rollout: RolloutView;
}

/** One page of a function's rollouts, newest first. */
export interface RolloutHistoryPage {
  rollouts: RolloutView[];
  nextCursor: string | null;
}

/** What {@link RolloutOrchestrator.activateOnce} did. */
type Activation =
  | { kind: 'already-active' }
  | { kind: 'activated'; at: number; ms: number }
  | { kind: 'refused'; error: unknown; active: string | null };

/** Thrown inside a run to stop at a step boundary when the run's time budget is spent. */
class OutOfTime extends Error {}

interface Run {
  id: string;
  row: RolloutRow;
  policy: RolloutPolicy;
  lock: HeldLock;
  code: CodeBundle | undefined;
  deadline: number;
  resumed: boolean;
  /** This run activated green itself (vs. resuming after a previous run did). */
  switchedThisRun: boolean;
}

/**
 * The blue-green rollout orchestrator: a resumable state machine persisted in `deployments-rollouts`
 * (pending → building → validating → switching → watching → succeeded, or → rolling_back → rolled_back, or
 * → failed), one rollout per function at a time (`deployments-locks`), every step idempotent so a run that
 * dies is resumed (or rolled back) by the next, and an append-only history (`deployments-events`).
 *
 * Every write of a run is fenced by the lock's version, so a run that stalled past its lease and was taken
 * over cannot change anything any more. See `functions-platform.ts` for the platform model (one active
 * deployment; activation is one call; executions cannot target an inactive deployment).
 *
 * What a resuming run does in each state (each step re-reads the platform before acting):
 * - building: uploads whatever is not recorded yet (green, then the twin's copy), then waits for the builds.
 *   The upload is the one call that is not idempotent: a run that dies between `createDeployment` and
 *   recording the id leaves an orphan inactive deployment (never activated); the next run uploads again when
 *   given the code, or ends the rollout `failed` (nothing switched) when not.
 * - validating: activates the twin's deployment if it is not active yet, then runs the checks again.
 * - switching: activates green only if it is not active yet (so a switch is never made twice), then verifies.
 * - watching: finishes the watch from the execution records (they are durable), or rolls back when the
 *   policy's `resumePolicy` is `rollback`.
 * - rolling_back: reactivates blue only if it is not active yet, then verifies.
 */
export class RolloutOrchestrator {
  private readonly store: TableStore;
  private readonly platform: FunctionsPlatform;
  private readonly clock: Clock;
  private readonly owner: string;
  private readonly random: () => number;
  private readonly onEvent: (event: RolloutEvent) => void;
  private readonly standbyIdOf: (functionId: string) => string;
  private readonly attempts: number;
  private readonly checks: RolloutChecks;
  private readonly sloGate: SloGate | undefined;
  private readonly journal: RolloutJournal;
  private readonly holderGone: HolderGone;

  constructor(options: RolloutOrchestratorOptions) {
    this.store = options.store;
    this.platform = options.platform;
    this.clock = options.clock ?? systemClock;
    this.owner = options.owner ?? `run-${newId()}`;
    this.random = options.random ?? Math.random;
    this.onEvent = options.onEvent ?? (() => {});
    this.standbyIdOf = options.standbyIdOf ?? ((id) => `${id}-standby`);
    this.attempts = options.platformAttempts ?? 4;
    this.sloGate = options.sloGate;
    this.holderGone = options.holderGone ?? (() => false);
    this.checks = new RolloutChecks(this.platform, this.clock, (fn) => this.call(fn));
    this.journal = new RolloutJournal(this.store, this.clock, this.onEvent);
  }

  /**
   * Starts a rollout and drives it to its end (or until `maxRunMs`). Bad input — invalid fields or
   * thresholds, an unknown function or twin, a missing or unusable deployment — is refused before anything
   * is written (`INVALID_INPUT` / `NOT_FOUND`); a rollout already in progress for the function is `CONFLICT`.
   */
  async start(raw: unknown, options: RunOptions = {}): Promise<RolloutView> {
    const { input, policy, policyJson, fn, standbyId, existingEntrypoint } = await preflightStart(
      { platform: this.platform, call: (f) => this.call(f), standbyIdOf: this.standbyIdOf },
      raw,
    );
    const sloNote = (await this.sloGate?.admit(fn.id, { force: options.forceSlo === true })) ?? null;
    const id = newId();
    const acquired = await tryAcquireRolloutLock(
      this.store,
      this.clock,
      { functionId: fn.id, rolloutId: id, owner: this.owner, ttlMs: policy.lockTtlMs },
      async (holder) => isFinishedOrMissing(this.store, holder.rolloutId),
      this.holderGone,
    );
    if (!acquired.acquired) {
      const holder = acquired.holder;
      if (holder.expiresAt > this.clock.now()) throw this.busy(fn.id, holder.rolloutId, holder.expiresAt);
      const raw = await this.store.get(ROLLOUTS_TABLE, holder.rolloutId);
      throw unfinishedError(fn.id, holder.rolloutId, raw ? rolloutRowSchema.parse(raw).status : 'pending');
    }
    const lock = acquired.lock;
    const unfinished = await findUnfinishedRollout(this.store, fn.id);
    if (unfinished && unfinished.id !== id) {
      await releaseRolloutLock(this.store, lock);
      throw unfinishedError(fn.id, unfinished.id, unfinished.row.status);
    }

    const now = this.clock.now();
    const row: RolloutRow = {
      functionId: fn.id,
      standbyFunctionId: standbyId,
      status: 'pending',
      blueDeploymentId: fn.activeDeploymentId,
      greenDeploymentId: input.deploymentId ?? null,
      standbyDeploymentId: null,
      codeSha256: input.code ? sha256(input.code.archive) : null,
      // The twin's copy of an existing deployment is built with that deployment's entrypoint.
      entrypoint: input.code?.entrypoint ?? existingEntrypoint,
      skipHealthCheck: input.skipHealthCheck,
      autoRollback: input.autoRollback,
      policy: policyJson,
      validation: null,
      watch: null,
      reason: null,
      abortRequested: false,
      abortReason: null,
      startedAt: now,
      buildStartedAt: null,
      switchStartedAt: null,
      switchedAt: null,
      watchUntil: null,
      rollbackStartedAt: null,
      finishedAt: null,
      switchCalls: null,
      switchMs: null,
      rollbackCalls: null,
      rollbackMs: null,
      runs: 1,
    };
    const run: Run = {
      id,
      row,
      policy,
      lock,
      code: input.code,
      deadline: options.maxRunMs === undefined ? Number.POSITIVE_INFINITY : now + options.maxRunMs,
      resumed: false,
      switchedThisRun: false,
    };
    const retention =
      fn.deploymentRetentionDays > 0
        ? `; note: ${fn.id} deletes inactive deployments after ${fn.deploymentRetentionDays} days, so a manual ` +
          'rollback to blue is possible only until then'
        : '';
    const message =
      `rollout of ${fn.id} started: blue ${fn.activeDeploymentId ?? '(none)'}, green ` +
      `${input.deploymentId ?? '(new upload)'}${input.skipHealthCheck ? ', pre-switch validation SKIPPED' : ''}` +
      `${input.autoRollback ? '' : ', autoRollback OFF'}${retention}${sloNote ? `; ${sloNote}` : ''}`;
    try {
      await this.journal.write(run, [{ action: 'create', table: ROLLOUTS_TABLE, id, data: row }], {
        level: input.skipHealthCheck || sloNote ? 'warn' : 'info',
        message,
      });
    } catch (error) {
      await releaseRolloutLock(this.store, lock).catch(() => false);
      throw error;
    }
    return this.drive(run);
  }

  /**
   * Continues the function's unfinished rollout (its previous run died or ran out of time), once that run's
   * lease has expired. A switch in progress is always completed (activation is idempotent); a watch is
   * finished or, with `resumePolicy: 'rollback'`, rolled back.
   */
  async resume(functionId: string, options: ResumeOptions = {}): Promise<RolloutView> {
    const unfinished = await findUnfinishedRollout(this.store, functionId);
    if (!unfinished) throw errors.notFound(`no unfinished rollout of ${functionId}`, { functionId });
    const run = await this.takeOver(unfinished.id, unfinished.row, options);
    if (options.code) {
      if (run.row.codeSha256 !== null && sha256(options.code.archive) !== run.row.codeSha256) {
        await releaseRolloutLock(this.store, run.lock);
        throw errors.invalidInput('the code given differs from the code this rollout started with', [
          { path: 'code', message: 'sha256 mismatch' },
        ]);
      }
      run.code = options.code;
    }
    await this.journal.write(
      run,
      [{ action: 'update', table: ROLLOUTS_TABLE, id: run.id, data: { runs: (run.row.runs ?? 0) + 1 } }],
      {
        level: 'warn',
        message: `run ${this.owner} resumes the rollout at ${run.row.status}`,
      },
    );
    run.row.runs = (run.row.runs ?? 0) + 1;
    return this.drive(run);
  }

  /**
   * Manual rollback of the function's latest rollout, at any time. Before the switch it aborts the rollout
   * (nothing was switched: `failed`). After it, it reactivates blue (one call). For a rollout another live run
   * is driving, it records the request and that run acts on it at its next step (`outcome: 'requested'`).
   */
  async requestRollback(
    functionId: string,
    reason: string,
    options: RunOptions = {},
  ): Promise<RollbackOutcome> {
    const latest = await findLatestRollout(this.store, functionId);
    if (!latest) throw errors.notFound(`no rollout of ${functionId}`, { functionId });
    const { id, row } = latest;
    // A failed rollout needs a rollback only when it left green active (a failed watch with autoRollback off).
    const greenLeftActive = row.status === 'failed' && toRolloutView(id, row).green.active;
    if (row.status === 'rolled_back' || (row.status === 'failed' && !greenLeftActive)) {
      throw errors.conflict(
        `nothing to roll back: the latest rollout of ${functionId} (${id}) is ${row.status}`,
        {
          rolloutId: id,
          status: row.status,
        },
      );
    }
    const policy = parseRolloutPolicy(JSON.parse(row.policy));
    const acquired = await tryAcquireRolloutLock(
      this.store,
      this.clock,
      { functionId, rolloutId: id, owner: this.owner, ttlMs: policy.lockTtlMs },
      async (holder) => holder.rolloutId === id || isFinishedOrMissing(this.store, holder.rolloutId),
      this.holderGone,
    );
    if (!acquired.acquired) {
      if (acquired.holder.rolloutId !== id)
        throw this.busy(functionId, acquired.holder.rolloutId, acquired.holder.expiresAt);
      await this.store.update(ROLLOUTS_TABLE, id, {
        abortRequested: true,
        abortReason: reason.slice(0, 500),
      });
      const event = await this.journal.appendEvent(
        id,
        { ...row, abortRequested: true },
        'warn',
        `manual rollback requested: ${reason}`,
      );
      this.journal.emit(event);
      const fresh = rolloutRowSchema.parse(await this.store.get(ROLLOUTS_TABLE, id));
      return { outcome: 'requested', rollout: toRolloutView(id, fresh) };
    }
    const now = this.clock.now();
    const run: Run = {
      id,
      row,
      policy,
      lock: acquired.lock,
      code: undefined,
      deadline: options.maxRunMs === undefined ? Number.POSITIVE_INFINITY : now + options.maxRunMs,
      resumed: true,
      switchedThisRun: false,
    };
    if (row.status === 'succeeded' || row.status === 'failed') {
      const fn = await this.call(() => this.platform.getFunction(functionId));
      if (fn?.activeDeploymentId !== row.greenDeploymentId) {
        await releaseRolloutLock(this.store, run.lock);
        throw errors.conflict(
          `the active deployment of ${functionId} is ${fn?.activeDeploymentId ?? '(none)'}, not this rollout's green ` +
            `${row.greenDeploymentId}: refusing to roll back over a later change`,
          { rolloutId: id },
        );
      }
    }
    await this.abort(run, `manual rollback: ${reason}`);
    return { outcome: 'performed', rollout: await this.drive(run) };
  }

  /** A rollout by id, or `NOT_FOUND`. */
  async get(rolloutId: string): Promise<RolloutView> {
    const raw = await this.store.get(ROLLOUTS_TABLE, rolloutId);
    if (!raw) throw errors.notFound(`rollout ${rolloutId} does not exist`, { rolloutId });
    return toRolloutView(rolloutId, rolloutRowSchema.parse(raw));
  }

  /** The function's latest rollout (in progress or finished), or null. */
  async current(functionId: string): Promise<RolloutView | null> {
    const latest = await findLatestRollout(this.store, functionId);
    return latest ? toRolloutView(latest.id, latest.row) : null;
  }

  /** The function's rollouts, newest first. */
  async history(
    functionId: string,
    page: { limit?: number | undefined; cursor?: string | undefined } = {},
  ): Promise<RolloutHistoryPage> {
    const result = await this.store.list(ROLLOUTS_TABLE, {
      where: [{ field: 'functionId', op: 'eq', value: functionId }],
      orderBy: [{ field: '$sequence', direction: 'desc' }],
      limit: Math.min(Math.max(page.limit ?? 20, 1), 100),
      ...(page.cursor ? { cursor: page.cursor } : {}),
    });
    return {
      rollouts: result.rows.map((r) => toRolloutView(r.$id, rolloutRowSchema.parse(r))),
      nextCursor: result.nextCursor,
    };
  }

  /** Every history entry of one rollout, oldest first. */
  async events(rolloutId: string): Promise<RolloutEvent[]> {
    const out: RolloutEvent[] = [];
    let cursor: string | null = null;
    do {
      const page: ListResult = await this.store.list(EVENTS_TABLE, {
        where: [{ field: 'rolloutId', op: 'eq', value: rolloutId }],
        orderBy: [{ field: '$sequence', direction: 'asc' }],
        limit: 500,
        ...(cursor ? { cursor } : {}),
      });
      for (const r of page.rows) out.push({ id: r.$id, ...eventRowSchema.parse(r) });
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  // ---- the state machine -------------------------------------------------------------------------------

  private async drive(run: Run): Promise<RolloutView> {
    while (!TERMINAL_STATUSES.includes(run.row.status)) {
      try {
        if (await this.heartbeat(run)) continue;
        await this.step(run);
      } catch (error) {
        if (error instanceof OutOfTime) {
          await this.journal.pause(run, 'run time budget spent; the next run resumes');
          return toRolloutView(run.id, run.row);
        }
        if (hasCode(error, 'LEASE_LOST')) throw error;
        if (hasCode(error, 'RETRYABLE', 'OUTCOME_UNKNOWN') || run.row.status === 'rolling_back') {
          // Transient, a write whose outcome even a re-read could not learn, or the rollback itself failed: keep
          // the state, let the next run (which re-reads the row under the lock) retry it at once.
          await this.journal.pause(run, `interrupted: ${messageOf(error)}`, 'error').catch(() => undefined);
          throw error;
        }
        await this.failStep(run, error);
      }
    }
    await releaseRolloutLock(this.store, run.lock);
    return toRolloutView(run.id, run.row);
  }

  private async step(run: Run): Promise<void> {
    switch (run.row.status) {
      case 'pending':
        return this.journal.transition(run, 'building', 'building green', {
          buildStartedAt: this.clock.now(),
        });
      case 'building':
        return this.stepBuilding(run);
      case 'validating':
        return this.stepValidating(run);
      case 'switching':
        return this.stepSwitching(run);
      case 'watching':
        return this.stepWatching(run);
      case 'rolling_back':
        return this.stepRollingBack(run);
      default:
        return;
    }
  }

  private async stepBuilding(run: Run): Promise<void> {
    const { row } = run;
    if (row.greenDeploymentId === null) {
      if (!run.code) {
        return this.journal.finish(
          run,
          'failed',
          'the green upload was interrupted before it was recorded and this run has no code: nothing was switched; start a new rollout',
        );
      }
      const code = run.code;
      const dep = await this.call(() =>
        this.platform.createDeployment(row.functionId, code, { activate: false }),
      );
      // The build deadline runs from the latest upload (a resumed run may upload long after the first try).
      await this.journal.update(
        run,
        { greenDeploymentId: dep.id, buildStartedAt: this.clock.now() },
        `uploaded green ${dep.id} (inactive)`,
      );
    }
    if (row.standbyFunctionId !== null && row.standbyDeploymentId === null) {
      const code = await this.codeForTwin(run);
      const twin = row.standbyFunctionId;
      const dep = await this.call(() => this.platform.createDeployment(twin, code, { activate: false }));
      await this.journal.update(
        run,
        { standbyDeploymentId: dep.id, buildStartedAt: this.clock.now() },
        `uploaded the same code to the standby twin ${twin} as ${dep.id}`,
      );
    }
    // `run.row`, not `row`: the uploads above replaced it.
    const waiting = [
      { label: 'green', functionId: row.functionId, deploymentId: run.row.greenDeploymentId! },
    ];
    if (row.standbyFunctionId !== null) {
      waiting.push({
        label: 'standby',
        functionId: row.standbyFunctionId,
        deploymentId: run.row.standbyDeploymentId!,
      });
    }
    const startedAt = run.row.buildStartedAt ?? this.clock.now();
    for (let attempt = 0; waiting.length > 0; attempt++) {
      for (const target of [...waiting]) {
        const dep = await this.call(() =>
          this.platform.getDeployment(target.functionId, target.deploymentId),
        );
        if (!dep)
          return this.journal.finish(
            run,
            'failed',
            `${target.label} deployment ${target.deploymentId} disappeared during its build`,
          );
        if (dep.status === 'ready') {
          waiting.splice(waiting.indexOf(target), 1);
          await this.journal.note(run, 'info', `${target.label} build ready (${target.deploymentId})`);
        } else if (dep.status === 'failed' || dep.status === 'canceled') {
          return this.journal.finish(
            run,
            'failed',
            `${target.label} build ${dep.status}: nothing was switched`,
            {
              buildLogs: tail(dep.buildLogs, 500),
            },
          );
        }
      }
      if (waiting.length === 0) break;
      const left = startedAt + run.policy.buildTimeoutMs - this.clock.now();
      if (left <= 0) {
        return this.journal.finish(
          run,
          'failed',
          `build not ready within ${run.policy.buildTimeoutMs} ms: nothing was switched`,
        );
      }
      await this.clock.sleep(
        Math.min(
          left,
          rolloutBackoffDelay(attempt, run.policy.buildPollInitialMs, run.policy.buildPollMaxMs, this.random),
        ),
      );
      if (await this.heartbeat(run)) return;
    }
    if (row.skipHealthCheck) {
      return this.journal.transition(
        run,
        'switching',
        'pre-switch validation SKIPPED (skipHealthCheck): switching without a health check',
        { validation: JSON.stringify({ skipped: true }), switchStartedAt: this.clock.now() },
        'warn',
      );
    }
    return this.journal.transition(run, 'validating', 'validating green on the standby twin');
  }

  private async stepValidating(run: Run): Promise<void> {
    const twin = run.row.standbyFunctionId!;
    const dep = run.row.standbyDeploymentId!;
    const fn = await this.call(() => this.platform.getFunction(twin));
    if (!fn)
      return this.journal.finish(run, 'failed', `standby twin ${twin} disappeared: nothing was switched`);
    if (fn.activeDeploymentId !== dep) {
      await this.call(() => this.platform.activateDeployment(twin, dep));
      await this.journal.note(run, 'info', `activated ${dep} on the standby twin ${twin}`);
    }
    const health = await this.checks.checkHealth(twin, dep, run.policy.healthPath);
    const smokes = [];
    for (const smoke of run.policy.smokeRequests) smokes.push(await this.checks.checkSmoke(twin, smoke));
    const report = { skipped: false, functionId: twin, deploymentId: dep, health, smokes };
    const failures = [health, ...smokes].filter((c) => !c.ok);
    await this.journal.update(
      run,
      { validation: JSON.stringify(report) },
      failures.length ? 'pre-switch validation failed' : 'pre-switch validation passed',
      failures.length ? 'error' : 'info',
      report,
    );
    if (failures.length) {
      const first = failures[0]!;
      return this.journal.finish(
        run,
        'failed',
        `pre-switch validation failed on ${twin}: ${first.name}: ${first.problems.join('; ')}: nothing was switched`,
      );
    }
    return this.journal.transition(run, 'switching', 'switching traffic to green', {
      switchStartedAt: this.clock.now(),
    });
  }

  private async stepSwitching(run: Run): Promise<void> {
    const { row } = run;
    const green = row.greenDeploymentId!;
    let switchedAt = this.clock.now();
    const activation = await this.activateOnce(row.functionId, green);
    if (activation.kind === 'refused') throw activation.error;
    if (activation.kind === 'activated') {
      const { ms } = activation;
      switchedAt = activation.at;
      run.switchedThisRun = true;
      await this.journal.update(
        run,
        { switchCalls: 1, switchMs: ms },
        `switched: green ${green} activated in 1 call (${ms} ms)`,
        'info',
        {
          calls: 1,
          ms,
        },
      );
    } else if (row.switchCalls === null) {
      await this.journal.update(
        run,
        { switchCalls: 0, switchMs: 0 },
        `green ${green} was already active (switched by an earlier run)`,
        'warn',
      );
    }
    const verified = await this.checks.verifyActive(row.functionId, green, run.policy);
    if (!verified.ok) {
      const reason = `after the switch, executions did not run green: ${verified.problem}`;
      if (row.autoRollback && row.blueDeploymentId !== null) {
        return this.journal.transition(
          run,
          'rolling_back',
          reason,
          { reason, rollbackStartedAt: this.clock.now() },
          'error',
        );
      }
      return this.journal.finish(run, 'failed', reason);
    }
    const at = row.switchedAt ?? switchedAt;
    return this.journal.transition(run, 'watching', `verified: new executions run green ${green}; watching`, {
      switchedAt: at,
      watchUntil: at + run.policy.watchWindowMs,
    });
  }

  private async stepWatching(run: Run): Promise<void> {
    const { row, policy } = run;
    if (run.resumed && !run.switchedThisRun && policy.resumePolicy === 'rollback') {
      return this.failWatch(run, 'a previous run died while watching and resumePolicy is rollback');
    }
    const previous = row.watch === null ? null : watchSummarySchema.parse(JSON.parse(row.watch));
    let probes = previous?.probes ?? 0;
    let evaluations = previous?.evaluations ?? 0;
    let lastSamples = -1;
    // Probes of this run that timed out: failures of green until Appwrite's record of each one is listed.
    const timeouts: ExecutionInfo[] = [];
    for (;;) {
      const listed = await this.checks.greenExecutions(
        row.functionId,
        row.greenDeploymentId!,
        row.switchStartedAt ?? row.switchedAt ?? row.startedAt,
      );
      let executions = mergeProbeTimeouts(listed, timeouts);
      let verdict = evaluateWatch(executions, policy, { probes, evaluations: evaluations + 1 });
      // Probes fill a quiet window up to minSamples, and keep an idle function under watch: an interval that
      // brought no new execution gets `idleProbes`, so a version that degrades late in the window is seen.
      const deficit = Math.max(
        policy.minSamples - verdict.summary.samples,
        verdict.summary.samples === lastSamples ? policy.idleProbes : 0,
      );
      const wanted = Math.min(deficit, policy.maxProbesPerInterval);
      if (wanted > 0) {
        const results = await this.checks.probe(
          row.functionId,
          policy.healthPath,
          wanted,
          row.greenDeploymentId!,
        );
        probes += wanted;
        timeouts.push(...results.filter(isProbeTimeout));
        const seen = new Set(listed.map((e) => e.id));
        const answered = results.filter(
          (e) => e.deploymentId === row.greenDeploymentId && !seen.has(e.id) && !isProbeTimeout(e),
        );
        executions = mergeProbeTimeouts([...listed, ...answered], timeouts);
        verdict = evaluateWatch(executions, policy, { probes, evaluations: evaluations + 1 });
      }
      const burn = this.sloGate?.watch(row.functionId, executions, policy.minSamples) ?? null;
      if (burn && verdict.kind !== 'failing')
        verdict = { kind: 'failing', summary: verdict.summary, reason: burn };
      lastSamples = verdict.summary.samples;
      evaluations++;
      const now = this.clock.now();
      const ended = now >= row.watchUntil!;
      const summary = verdict.summary;
      if (verdict.kind === 'failing') {
        await this.journal.update(
          run,
          { watch: JSON.stringify(summary) },
          `watch: green failing: ${verdict.reason}`,
          'error',
          summary,
        );
        return this.failWatch(run, `watch failed: ${verdict.reason}`);
      }
      if (ended) {
        await this.journal.update(
          run,
          { watch: JSON.stringify(summary) },
          `watch ended: ${describeSummary(summary)}`,
          'info',
          summary,
        );
        if (verdict.kind === 'healthy')
          return this.journal.finish(
            run,
            'succeeded',
            `green healthy over the watch: ${describeSummary(summary)}`,
          );
        return this.failWatch(
          run,
          `not enough evidence: ${summary.samples} finished executions of green in the watch, ${policy.minSamples} required`,
        );
      }
      await this.journal.update(
        run,
        { watch: JSON.stringify(summary) },
        `watch: ${verdict.kind}: ${describeSummary(summary)}`,
        'info',
        summary,
      );
      await this.clock.sleep(Math.min(policy.watchIntervalMs, row.watchUntil! - now));
      if (await this.heartbeat(run)) return;
    }
  }

  private async stepRollingBack(run: Run): Promise<void> {
    const { row } = run;
    const blue = row.blueDeploymentId;
    if (blue === null)
      return this.journal.finish(
        run,
        'failed',
        `${row.reason ?? 'rollback'}; no blue deployment to reactivate: green stays active`,
      );
    const activation = await this.activateOnce(row.functionId, blue);
    if (activation.kind === 'refused') {
      return this.journal.finish(
        run,
        'failed',
        `blue ${blue} cannot be reactivated (${messageOf(activation.error)}): was it deleted (deployment ` +
          `retention)? ${activation.active ?? 'nothing'} stays active`,
      );
    }
    if (activation.kind === 'activated') {
      const { ms } = activation;
      await this.journal.update(
        run,
        { rollbackCalls: 1, rollbackMs: ms },
        `rolled back: blue ${blue} reactivated in 1 call (${ms} ms)`,
        'warn',
        {
          calls: 1,
          ms,
        },
      );
    } else if (row.rollbackCalls === null) {
      await this.journal.update(
        run,
        { rollbackCalls: 0, rollbackMs: 0 },
        `blue ${blue} was already active again`,
        'warn',
      );
    }
    const verified = await this.checks.verifyActive(row.functionId, blue, run.policy);
    if (!verified.ok)
      await this.journal.note(
        run,
        'warn',
        `blue is active, but its verification execution failed: ${verified.problem}`,
      );
    return this.journal.finish(run, 'rolled_back', row.reason ?? 'rolled back');
  }

  // ---- steps' helpers ----------------------------------------------------------------------------------

  /**
   * Makes `deploymentId` the active deployment of `functionId` with at most ONE activation call, and none when
   * it is already active (so a resumed run never switches or rolls back twice): the one place the switch and
   * the rollback activate. The platform refusing the deployment (`NOT_FOUND`, `CONFLICT`, `INVALID_INPUT`: deleted,
   * not built) is returned as `refused` with the deployment that stays active; other failures are thrown.
   */
  private async activateOnce(functionId: string, deploymentId: string): Promise<Activation> {
    const fn = await this.call(() => this.platform.getFunction(functionId));
    if (!fn) throw errors.notFound(`function ${functionId} disappeared`);
    if (fn.activeDeploymentId === deploymentId) return { kind: 'already-active' };
    const at = this.clock.now();
    const wall = performanceNow();
    try {
      await this.call(() => this.platform.activateDeployment(functionId, deploymentId));
    } catch (error) {
      if (hasCode(error, 'NOT_FOUND', 'CONFLICT', 'INVALID_INPUT'))
        return { kind: 'refused', error, active: fn.activeDeploymentId };
      throw error;
    }
    return { kind: 'activated', at, ms: Math.round(performanceNow() - wall) };
  }

  /** The watch failed: roll back when allowed, else end `failed` with green still active. */
  private failWatch(run: Run, reason: string): Promise<void> {
    if (run.row.autoRollback && run.row.blueDeploymentId !== null) {
      return this.journal.transition(
        run,
        'rolling_back',
        `${reason}: rolling back to blue ${run.row.blueDeploymentId}`,
        {
          reason,
          rollbackStartedAt: this.clock.now(),
        },
        'error',
      );
    }
    const why = run.row.autoRollback ? 'no blue deployment to go back to' : 'autoRollback is off';
    return this.journal.finish(run, 'failed', `${reason}; green stays active (${why})`);
  }

  /** An unexpected error in a step: before the switch the rollout fails; after it, it rolls back. */
  private async failStep(run: Run, error: unknown): Promise<void> {
    const message = `${run.row.status} failed: ${messageOf(error)}`;
    if (PRE_SWITCH_STATUSES.includes(run.row.status))
      return this.journal.finish(run, 'failed', `${message}: nothing was switched`);
    if (run.row.status === 'switching' || run.row.status === 'watching') return this.failWatch(run, message);
    throw error;
  }

  /** Acts on a manual rollback/abort. */
  private async abort(run: Run, reason: string): Promise<void> {
    const status = run.row.status;
    if (PRE_SWITCH_STATUSES.includes(status))
      return this.journal.finish(run, 'failed', `${reason}: aborted before the switch, nothing was switched`);
    if (status === 'switching' || status === 'watching' || status === 'succeeded' || status === 'failed') {
      if (run.row.blueDeploymentId === null)
        return this.journal.finish(run, 'failed', `${reason}; no blue deployment to reactivate`);
      return this.journal.transition(
        run,
        'rolling_back',
        `${reason}: rolling back to blue ${run.row.blueDeploymentId}`,
        {
          reason,
          rollbackStartedAt: this.clock.now(),
          abortRequested: false,
        },
        'warn',
      );
    }
  }

  /**
   * Between steps and during waits: stops when the run's budget is spent, acts on a manual rollback request,
   * and renews the lease when half of it is gone. Returns true when the status changed (the step must return).
   */
  private async heartbeat(run: Run): Promise<boolean> {
    // A rollback is never paused for the time budget: it is short, and the function must not stay half-done.
    if (this.clock.now() >= run.deadline && run.row.status !== 'rolling_back') throw new OutOfTime();
    const raw = await this.store.get(ROLLOUTS_TABLE, run.id);
    const fresh = raw ? rolloutRowSchema.parse(raw) : null;
    if (fresh?.abortRequested && !TERMINAL_STATUSES.includes(run.row.status)) {
      run.row.abortRequested = true;
      const before = run.row.status;
      await this.abort(run, `manual rollback: ${fresh.abortReason ?? 'requested'}`);
      return run.row.status !== before;
    }
    if (run.lock.expiresAt - this.clock.now() < run.policy.lockTtlMs / 2)
      await this.journal.write(run, [], null);
    return false;
  }

  private async codeForTwin(run: Run): Promise<CodeBundle> {
    if (run.code) return run.code;
    const download = this.platform.downloadDeployment?.bind(this.platform);
    if (!download) throw errors.invalidInput('the standby twin needs the code and this run has none');
    const archive = await this.call(() => download(run.row.functionId, run.row.greenDeploymentId!));
    // No `commands`: the twin builds with its own configured commands, which appwrite.json keeps equal to the
    // live function's.
    return { archive, entrypoint: run.row.entrypoint ?? 'dist/main.js' };
  }

  // ---- persistence: this.journal (rollout-journal.ts) -------------------------------------------------

  private async takeOver(id: string, row: RolloutRow, options: RunOptions): Promise<Run> {
    const policy = parseRolloutPolicy(JSON.parse(row.policy));
    const acquired = await tryAcquireRolloutLock(
      this.store,
      this.clock,
      { functionId: row.functionId, rolloutId: id, owner: this.owner, ttlMs: policy.lockTtlMs },
      async (holder) => holder.rolloutId === id || isFinishedOrMissing(this.store, holder.rolloutId),
      this.holderGone,
    );
    if (!acquired.acquired)
      throw this.busy(row.functionId, acquired.holder.rolloutId, acquired.holder.expiresAt);
    // Re-read under the lock: the previous holder may have written after we looked.
    const fresh = rolloutRowSchema.parse(await this.store.get(ROLLOUTS_TABLE, id));
    return {
      id,
      row: fresh,
      policy,
      lock: acquired.lock,
      code: undefined,
      deadline:
        options.maxRunMs === undefined ? Number.POSITIVE_INFINITY : this.clock.now() + options.maxRunMs,
      resumed: true,
      switchedThisRun: false,
    };
  }

  /**
   * The lock is held by a run whose lease has not ended and that nothing proves gone. Says exactly when another
   * run can take over: `details.retryAt` (ISO) and `details.retryInMs`.
   */
  private busy(functionId: string, rolloutId: string, expiresAt: number) {
    const inMs = Math.max(0, expiresAt - this.clock.now());
    const at = new Date(expiresAt).toISOString();
    return errors.conflict(
      `a rollout of ${functionId} is in progress (${rolloutId}; its run's lease ends ${at}, in ${Math.ceil(inMs / 1000)} s): ` +
        'one rollout per function at a time; if that run is dead, resume can take over from then',
      { functionId, rolloutId, lockTable: LOCKS_TABLE, retryAt: at, retryInMs: inMs },
    );
  }

  /** One platform call, retried with backoff on `RETRYABLE` (activation and reads are idempotent). */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!hasCode(error, 'RETRYABLE') || attempt >= this.attempts) throw error;
        await this.clock.sleep(rolloutBackoffDelay(attempt - 1, 200, 2_000, this.random));
      }
    }
  }
}

function unfinishedError(functionId: string, rolloutId: string, status: RolloutStatus) {
  return errors.conflict(
    `rollout ${rolloutId} of ${functionId} is unfinished (${status}) and its run stopped: resume it or roll it back first`,
    { functionId, rolloutId, status },
  );
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function tail(text: string, n: number): string {
  return text.length > n ? `…${text.slice(-n)}` : text;
}

function describeSummary(s: WatchSummary): string {
  return (
    `${s.samples} samples (${s.probes} probes), ${s.errors} errors (${(s.errorRate * 100).toFixed(1)}%), ` +
    `p95 ${Math.round(s.p95LatencyMs)} ms`
  );
}

/** Wall time for the switch/rollback figures: real milliseconds even when the orchestrator's clock is manual. */
function performanceNow(): number {
  return globalThis.performance.now();
}
