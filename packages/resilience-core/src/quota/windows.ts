/**
 * Calendar windows in an IANA time zone — pure functions over epoch milliseconds, built on Intl.DateTimeFormat
 * (no date library).
 *
 * A window is named by its *wall-clock key* in the zone: `2026-03-08T02` (hour), `2026-03-08` (day), `2026-03`
 * (month), or `gauge` (never resets). Its `start` is the first instant whose local wall clock falls in that key,
 * its `end` the start of the next key, so windows tile time with no gap or overlap:
 * - a day on which clocks spring forward lasts 23 hours, one on which they fall back 25;
 * - when local midnight does not exist (e.g. America/Santiago, where DST starts at 24:00), the day starts at the
 *   transition instant (01:00 local);
 * - the hour repeated when clocks fall back is one window two real hours long (usage in both halves counts once);
 * - hours in zones with half- or quarter-hour offsets (Asia/Kolkata, Asia/Kathmandu) start at :30 / :15 UTC.
 * This relies on the local calendar key never going backwards at a transition, which holds for every current
 * IANA rule (fall-back transitions land inside the same hour and day).
 */
import { errors } from '../errors.ts';
import type { WindowKind } from './quota-types.ts';

/** One concrete window of a quota. `start`/`end` are epoch ms; both `null` for gauges. */
export interface QuotaWindow {
  kind: WindowKind;
  /** Wall-clock key in the zone (`gauge` for gauges); part of the usage row id. */
  key: string;
  /** First instant of the window (inclusive), epoch ms. */
  start: number | null;
  /** First instant after the window (exclusive), epoch ms; when the quota resets. */
  end: number | null;
  timeZone: string;
}

/** The key every gauge uses: one window forever. */
export const GAUGE_KEY = 'gauge';

/** Time zone used when an organization has none. */
export const DEFAULT_TIME_ZONE = 'UTC';

const HOUR = 3_600_000;
/** Wider than any UTC offset that has existed (−12:00 … +14:00, plus historical LMT oddities). */
const SEARCH_SPAN = 16 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone name this runtime knows (e.g. `Europe/Berlin`, `UTC`). */
export function isValidTimeZone(timeZone: unknown): timeZone is string {
  if (typeof timeZone !== 'string' || timeZone.length === 0 || timeZone.length > 64) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The local wall-clock fields of an instant in a zone (month 1–12, hour 0–23). */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall clock at `instant` (epoch ms) in `timeZone`. Throws INVALID_INPUT for an unknown zone. */
export function wallClock(instant: number, timeZone: string): WallClock {
  let f: Intl.DateTimeFormat;
  try {
    f = formatter(timeZone);
  } catch {
    throw errors.invalidInput(`Unknown time zone "${timeZone}"`, [
      { path: 'timeZone', message: 'must be an IANA time zone name such as Europe/Berlin' },
    ]);
  }
  const out: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of f.formatToParts(instant)) {
    if (part.type in out) out[part.type as keyof WallClock] = Number(part.value);
  }
  return out;
}

/** The wall clock of `instant` as "UTC-like" epoch ms, floored to the start of its `kind` (not for gauges). */
function wallFloor(instant: number, kind: Exclude<WindowKind, 'gauge'>, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  if (kind === 'hour') return Date.UTC(w.year, w.month - 1, w.day, w.hour);
  if (kind === 'day') return Date.UTC(w.year, w.month - 1, w.day);
  return Date.UTC(w.year, w.month - 1, 1);
}

/** The UTC offset of `timeZone` at `instant`, in ms (positive east of Greenwich). */
export function utcOffset(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const wall = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The first instant whose local wall clock, floored to `kind`, is at or after `wallStart` (a wall time written
 * as UTC epoch ms). Tries the offset guess first (two lookups); falls back to a binary search inside a
 * transition.
 */
function firstInstantAtOrAfter(
  wallStart: number,
  kind: Exclude<WindowKind, 'gauge'>,
  timeZone: string,
): number {
  const reached = (t: number) => wallFloor(t, kind, timeZone) >= wallStart;
  const guess = wallStart - utcOffset(wallStart, timeZone);
  if (reached(guess) && !reached(guess - 1)) return guess;
  const second = wallStart - utcOffset(guess, timeZone);
  if (reached(second) && !reached(second - 1)) return second;
  let lo = wallStart - SEARCH_SPAN; // not reached: its wall clock is at least 2 h before wallStart
  let hi = wallStart + SEARCH_SPAN; // reached: its wall clock is at least 2 h after wallStart
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (reached(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function keyOfWall(wall: number, kind: Exclude<WindowKind, 'gauge'>): string {
  const d = new Date(wall);
  const ymd = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}`;
  if (kind === 'month') return ymd;
  const day = `${ymd}-${pad(d.getUTCDate())}`;
  return kind === 'day' ? day : `${day}T${pad(d.getUTCHours())}`;
}

const KEY_PATTERNS: Record<Exclude<WindowKind, 'gauge'>, RegExp> = {
  hour: /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/,
  day: /^(\d{4})-(\d{2})-(\d{2})$/,
  month: /^(\d{4})-(\d{2})$/,
};

/** The wall start (UTC-like ms) a key names; INVALID_INPUT when the key is malformed for its kind. */
function wallOfKey(key: string, kind: Exclude<WindowKind, 'gauge'>): number {
  const m = KEY_PATTERNS[kind].exec(key);
  if (!m)
    throw errors.invalidInput(`Malformed ${kind} window key "${key}"`, [
      { path: 'window', message: 'malformed' },
    ]);
  const [year, month, day, hour] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 1), Number(m[4] ?? 0)];
  const wall = Date.UTC(year, month - 1, day, hour);
  if (keyOfWall(wall, kind) !== key) {
    throw errors.invalidInput(`Window key "${key}" is not a real ${kind}`, [
      { path: 'window', message: 'no such date' },
    ]);
  }
  return wall;
}

function nextWall(wall: number, kind: Exclude<WindowKind, 'gauge'>): number {
  const d = new Date(wall);
  if (kind === 'hour') return wall + HOUR;
  if (kind === 'day') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The key of the window of `kind` that contains `instant` — one Intl lookup, no search. */
export function windowKeyAt(kind: WindowKind, instant: number, timeZone: string = DEFAULT_TIME_ZONE): string {
  if (kind === 'gauge') return GAUGE_KEY;
  return keyOfWall(wallFloor(instant, kind, timeZone), kind);
}

/** The window named `key` (as produced by {@link windowKeyAt}), with its start and end instants. */
export function windowOfKey(
  kind: WindowKind,
  key: string,
  timeZone: string = DEFAULT_TIME_ZONE,
): QuotaWindow {
  if (kind === 'gauge') {
    if (key !== GAUGE_KEY) throw errors.invalidInput(`Gauge window key must be "${GAUGE_KEY}"`);
    return { kind, key, start: null, end: null, timeZone };
  }
  const wall = wallOfKey(key, kind);
  return {
    kind,
    key,
    start: firstInstantAtOrAfter(wall, kind, timeZone),
    end: firstInstantAtOrAfter(nextWall(wall, kind), kind, timeZone),
    timeZone,
  };
}

/** The window of `kind` containing `instant` in `timeZone`. */
export function windowAt(
  kind: WindowKind,
  instant: number,
  timeZone: string = DEFAULT_TIME_ZONE,
): QuotaWindow {
  return windowOfKey(kind, windowKeyAt(kind, instant, timeZone), timeZone);
}

/** The window right after `window` (gauges have none: returns the gauge window itself). */
export function nextWindow(window: QuotaWindow): QuotaWindow {
  if (window.kind === 'gauge' || window.end === null) return window;
  return windowAt(window.kind, window.end, window.timeZone);
}

/** The window right before `window` (gauges: the gauge window itself). */
export function previousWindow(window: QuotaWindow): QuotaWindow {
  if (window.kind === 'gauge' || window.start === null) return window;
  return windowAt(window.kind, window.start - 1, window.timeZone);
}

/** Whole seconds from `now` until the window ends (at least 1), or `null` for gauges. */
export function secondsUntilReset(window: QuotaWindow, now: number): number | null {
  if (window.end === null) return null;
  return Math.max(1, Math.ceil((window.end - now) / 1000));
}

/**
 * A small per-process cache of windows by (zone, kind, key): the key costs one Intl lookup per consume, the
 * start/end search runs once per window.
 */
export class WindowCache {
  private readonly entries = new Map<string, QuotaWindow>();
  /** The last window returned per (zone, kind): while `instant` stays inside it, no Intl lookup is needed. */
  private readonly latest = new Map<string, QuotaWindow>();

  constructor(private readonly capacity = 512) {}

  /** The window of `kind` containing `instant`. */
  at(kind: WindowKind, instant: number, timeZone: string): QuotaWindow {
    const lane = `${timeZone}|${kind}`;
    const last = this.latest.get(lane);
    if (last && (last.start === null || (instant >= last.start && instant < last.end!))) return last;
    const key = windowKeyAt(kind, instant, timeZone);
    const id = `${lane}|${key}`;
    let window = this.entries.get(id);
    if (!window) {
      window = windowOfKey(kind, key, timeZone);
      if (this.entries.size >= this.capacity) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(id, window);
    }
    this.latest.set(lane, window);
    return window;
  }
}
