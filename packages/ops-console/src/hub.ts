import { type SloAlertOutcome, sendSloAlerts } from 'resilience-core/slo';
import type { LiveSystem } from './live-system.ts';
import { type ConsoleState, loadState } from './panels.ts';

/** One point of the console's time series (kept in memory, newest last). */
export interface SeriesPoint {
  at: number;
  /** Queue depth: waiting (PENDING + RETRYING), running (PROCESSING), dead letters. */
  waiting: number;
  running: number;
  dead: number;
  /** Jobs completed, and jobs failed or dead-lettered, per minute over the last hour. */
  throughputPerMinute: number;
  failedPerMinute: number;
  /** Breakers not CLOSED, and each breaker's fleet-wide failure rate in its window (`name|scope`). */
  openBreakers: number;
  breakerFailureRate: Record<string, number | null>;
  /** Burn rate by SLO id and window (5m, 1h). */
  burn: Record<string, { '5m': number; '1h': number }>;
}

/** Options of {@link ConsoleHub}. */
export interface ConsoleHubOptions {
  /** Background refresh period, ms. Default 5,000. 0 = refresh only on demand. */
  refreshMs?: number;
  /** Points kept per series. Default 360 (30 minutes at 5 s). */
  maxPoints?: number;
}

/**
 * Keeps the latest console state: one refresh at a time (concurrent requests share it), in the background every
 * `refreshMs`, and on demand after an action. Each refresh appends a series point and sends the SLO alerts that
 * fire (once per alert window, through the notifier and breakers).
 */
export class ConsoleHub {
  state: ConsoleState | null = null;
  readonly series: SeriesPoint[] = [];
  readonly alertLog: (SloAlertOutcome & { at: string })[] = [];
  private inflight: Promise<ConsoleState> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly maxPoints: number;

  constructor(
    readonly sys: LiveSystem,
    private readonly options: ConsoleHubOptions = {},
  ) {
    this.maxPoints = options.maxPoints ?? 360;
  }

  /** Starts the background refresh. */
  start(): void {
    const every = this.options.refreshMs ?? 5_000;
    if (every > 0 && !this.timer) {
      this.timer = setInterval(() => void this.refresh().catch(() => {}), every);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A fresh state (joins a refresh already running). */
  refresh(): Promise<ConsoleState> {
    if (!this.inflight) {
      this.inflight = this.load().finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  /**
   * A state read wholly after this call, for the answer to an action: a refresh already running may have read
   * some panels before the action changed them, so it is waited out (not joined) before refreshing.
   */
  async refreshAfterChange(): Promise<ConsoleState> {
    await this.inflight?.catch(() => {});
    return this.refresh();
  }

  /** The latest state if younger than `maxAgeMs`, else a fresh one. */
  async current(maxAgeMs: number): Promise<ConsoleState> {
    if (this.state && this.sys.clock.now() - Date.parse(this.state.at) < maxAgeMs) return this.state;
    return this.refresh();
  }

  private async load(): Promise<ConsoleState> {
    const state = await loadState(this.sys);
    this.state = state;
    this.record(state);
    if (!('error' in state.slos) && this.sys.alerts.channels.length > 0) {
      const outcomes = await sendSloAlerts(state.slos.statuses, this.sys.alerts).catch(() => []);
      for (const o of outcomes) if (o.outcome !== 'duplicate') this.alertLog.push({ ...o, at: state.at });
      this.alertLog.splice(0, Math.max(0, this.alertLog.length - 50));
    }
    return state;
  }

  private record(state: ConsoleState): void {
    const jobs = 'error' in state.jobs ? null : state.jobs.metrics;
    const burn: SeriesPoint['burn'] = {};
    if (!('error' in state.slos)) {
      for (const s of state.slos.statuses) {
        const w = (name: string) => s.windows.find((x) => x.window === name)?.burnRate ?? 0;
        burn[s.spec.id] = { '5m': w('5m'), '1h': w('1h') };
      }
    }
    const rows = 'error' in state.breakers ? [] : state.breakers.rows;
    this.series.push({
      at: Date.parse(state.at),
      openBreakers: rows.filter((b) => b.state !== 'CLOSED').length,
      breakerFailureRate: Object.fromEntries(rows.map((b) => [`${b.name}|${b.scope ?? ''}`, b.failureRate])),
      waiting: jobs ? jobs.depth.PENDING + jobs.depth.RETRYING : 0,
      running: jobs ? jobs.depth.PROCESSING : 0,
      dead: jobs ? jobs.depth.DEAD_LETTER : 0,
      throughputPerMinute: jobs?.throughputPerMinute ?? 0,
      failedPerMinute: jobs
        ? (jobs.finishedInWindow.FAILED + jobs.finishedInWindow.DEAD_LETTER) / (jobs.windowMs / 60_000)
        : 0,
      burn,
    });
    this.series.splice(0, Math.max(0, this.series.length - this.maxPoints));
  }
}
