import fc from 'fast-check';
import {
  isValidTimeZone,
  nextWindow,
  previousWindow,
  secondsUntilReset,
  utcOffset,
  windowAt,
  windowKeyAt,
  windowOfKey,
} from 'resilience-core/quota';
import { describe, expect, it } from 'vitest';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const H = 3_600_000;

describe('quota windows: UTC calendar', () => {
  it('aligns hour, day and month windows to the calendar', () => {
    const t = Date.parse('2026-05-17T13:45:12.345Z');
    expect(windowAt('hour', t)).toMatchObject({ key: '2026-05-17T13' });
    expect(iso(windowAt('hour', t).start)).toBe('2026-05-17T13:00:00.000Z');
    expect(iso(windowAt('hour', t).end)).toBe('2026-05-17T14:00:00.000Z');
    expect(iso(windowAt('day', t).start)).toBe('2026-05-17T00:00:00.000Z');
    expect(iso(windowAt('day', t).end)).toBe('2026-05-18T00:00:00.000Z');
    expect(windowAt('month', t).key).toBe('2026-05');
    expect(iso(windowAt('month', t).start)).toBe('2026-05-01T00:00:00.000Z');
    expect(iso(windowAt('month', t).end)).toBe('2026-06-01T00:00:00.000Z');
  });

  it('puts the exact boundary instant in the new window', () => {
    const midnight = Date.parse('2026-06-01T00:00:00.000Z');
    expect(windowKeyAt('day', midnight)).toBe('2026-06-01');
    expect(windowKeyAt('day', midnight - 1)).toBe('2026-05-31');
    expect(windowKeyAt('month', midnight - 1)).toBe('2026-05');
    expect(windowKeyAt('hour', midnight - 1)).toBe('2026-05-31T23');
  });

  it('gauges have one window forever and never reset', () => {
    const w = windowAt('gauge', Date.parse('2026-01-01T00:00:00Z'), 'Europe/Berlin');
    expect(w).toEqual({ kind: 'gauge', key: 'gauge', start: null, end: null, timeZone: 'Europe/Berlin' });
    expect(windowAt('gauge', Date.parse('2031-07-09T10:00:00Z')).key).toBe('gauge');
    expect(secondsUntilReset(w, Date.now())).toBeNull();
    expect(nextWindow(w)).toBe(w);
  });
});

describe('quota windows: month ends and leap days', () => {
  it('February has 29 days in a leap year and 28 otherwise', () => {
    const feb2028 = windowOfKey('month', '2028-02');
    expect(((feb2028.end ?? 0) - (feb2028.start ?? 0)) / (24 * H)).toBe(29);
    const feb2026 = windowOfKey('month', '2026-02');
    expect(((feb2026.end ?? 0) - (feb2026.start ?? 0)) / (24 * H)).toBe(28);
    expect(windowKeyAt('day', Date.parse('2028-02-29T12:00:00Z'))).toBe('2028-02-29');
    expect(iso(windowOfKey('day', '2028-02-29').end)).toBe('2028-03-01T00:00:00.000Z');
  });

  it('refuses keys that name no real date (29 Feb of a common year, month 13, hour 24)', () => {
    expect(() => windowOfKey('day', '2026-02-29')).toThrow(/not a real day/);
    expect(() => windowOfKey('month', '2026-13')).toThrow(/not a real month/);
    expect(() => windowOfKey('hour', '2026-01-01T24')).toThrow(/not a real hour/);
    expect(() => windowOfKey('day', '2026-1-01')).toThrow(/Malformed/);
  });

  it('rolls over the year at the end of December, in the org time zone', () => {
    const w = windowOfKey('month', '2026-12', 'Asia/Tokyo');
    expect(iso(w.start)).toBe('2026-11-30T15:00:00.000Z');
    expect(iso(w.end)).toBe('2026-12-31T15:00:00.000Z');
    expect(nextWindow(w).key).toBe('2027-01');
    expect(previousWindow(windowOfKey('day', '2027-01-01', 'Asia/Tokyo')).key).toBe('2026-12-31');
  });

  it('month end in a negative-offset zone belongs to the local month', () => {
    // 2026-02-01T03:00Z is still January 31st in Los Angeles.
    expect(windowKeyAt('month', Date.parse('2026-02-01T03:00:00Z'), 'America/Los_Angeles')).toBe('2026-01');
    expect(windowKeyAt('day', Date.parse('2026-02-01T03:00:00Z'), 'America/Los_Angeles')).toBe('2026-01-31');
  });
});

describe('quota windows: daylight saving time', () => {
  it('the spring-forward day in New York lasts 23 hours and its 02 hour does not exist', () => {
    const day = windowOfKey('day', '2026-03-08', 'America/New_York');
    expect(iso(day.start)).toBe('2026-03-08T05:00:00.000Z');
    expect(iso(day.end)).toBe('2026-03-09T04:00:00.000Z');
    expect(((day.end ?? 0) - (day.start ?? 0)) / H).toBe(23);
    // 01:59:59 EST is followed by 03:00:00 EDT.
    const before = Date.parse('2026-03-08T06:59:59Z');
    expect(windowKeyAt('hour', before, 'America/New_York')).toBe('2026-03-08T01');
    expect(windowKeyAt('hour', before + 1000, 'America/New_York')).toBe('2026-03-08T03');
    expect(nextWindow(windowAt('hour', before, 'America/New_York')).key).toBe('2026-03-08T03');
  });

  it('the fall-back day in New York lasts 25 hours and its repeated 01 hour is one two-hour window', () => {
    const day = windowOfKey('day', '2026-11-01', 'America/New_York');
    expect(((day.end ?? 0) - (day.start ?? 0)) / H).toBe(25);
    const one = windowOfKey('hour', '2026-11-01T01', 'America/New_York');
    expect(iso(one.start)).toBe('2026-11-01T05:00:00.000Z'); // 01:00 EDT
    expect(iso(one.end)).toBe('2026-11-01T07:00:00.000Z'); // 02:00 EST
    expect(windowKeyAt('hour', Date.parse('2026-11-01T06:30:00Z'), 'America/New_York')).toBe('2026-11-01T01');
  });

  it('Europe/Berlin: the March day is 23 h, the October day 25 h, months still tile', () => {
    const mar = windowOfKey('day', '2026-03-29', 'Europe/Berlin');
    expect(((mar.end ?? 0) - (mar.start ?? 0)) / H).toBe(23);
    const oct = windowOfKey('day', '2026-10-25', 'Europe/Berlin');
    expect(((oct.end ?? 0) - (oct.start ?? 0)) / H).toBe(25);
    const march = windowOfKey('month', '2026-03', 'Europe/Berlin');
    expect(iso(march.start)).toBe('2026-02-28T23:00:00.000Z');
    expect(iso(march.end)).toBe('2026-03-31T22:00:00.000Z');
  });

  it('when local midnight does not exist (Santiago, DST at 24:00) the day starts at the transition', () => {
    const day = windowOfKey('day', '2026-09-06', 'America/Santiago');
    expect(iso(day.start)).toBe('2026-09-06T04:00:00.000Z'); // 01:00 -03, the first instant of the local day
    expect(((day.end ?? 0) - (day.start ?? 0)) / H).toBe(23);
    expect(windowKeyAt('day', (day.start ?? 0) - 1, 'America/Santiago')).toBe('2026-09-05');
  });

  it('Lord Howe shifts by 30 minutes: the fall-back day lasts 24.5 hours', () => {
    const day = windowOfKey('day', '2026-04-05', 'Australia/Lord_Howe');
    expect(((day.end ?? 0) - (day.start ?? 0)) / H).toBe(24.5);
  });
});

describe('quota windows: time zones', () => {
  it('hours in Asia/Kolkata (+05:30) start at :30 UTC', () => {
    const w = windowAt('hour', Date.parse('2026-05-17T13:10:00Z'), 'Asia/Kolkata');
    expect(w.key).toBe('2026-05-17T18');
    expect(iso(w.start)).toBe('2026-05-17T12:30:00.000Z');
    expect(iso(w.end)).toBe('2026-05-17T13:30:00.000Z');
  });

  it('the same instant is a different day at +14 and −11', () => {
    const t = Date.parse('2026-05-17T11:30:00Z');
    expect(windowKeyAt('day', t, 'Pacific/Kiritimati')).toBe('2026-05-18');
    expect(windowKeyAt('day', t, 'Pacific/Pago_Pago')).toBe('2026-05-17');
    expect(windowKeyAt('day', t, 'UTC')).toBe('2026-05-17');
    expect(utcOffset(t, 'Pacific/Kiritimati')).toBe(14 * H);
  });

  it('validates zone names', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
    expect(() => windowAt('day', 0, 'Mars/Olympus')).toThrow(/Unknown time zone/);
  });

  it('seconds until reset count down to the window end', () => {
    const w = windowOfKey('day', '2026-05-17');
    expect(secondsUntilReset(w, Date.parse('2026-05-17T23:59:30.200Z'))).toBe(30);
    expect(secondsUntilReset(w, Date.parse('2026-05-17T23:59:59.999Z'))).toBe(1);
  });
});

describe('quota windows: properties', () => {
  const zones = [
    'UTC',
    'America/New_York',
    'Europe/Berlin',
    'America/Santiago',
    'Australia/Lord_Howe',
    'Asia/Kolkata',
    'Asia/Kathmandu',
    'Pacific/Chatham',
    'Africa/Casablanca',
  ];
  const kinds = ['hour', 'day', 'month'] as const;

  it('every instant lies in its window, and consecutive windows tile time with no gap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2020-01-01T00:00:00Z'), max: Date.parse('2032-12-31T00:00:00Z') }),
        fc.constantFrom(...zones),
        fc.constantFrom(...kinds),
        (t, zone, kind) => {
          const w = windowAt(kind, t, zone);
          expect(w.start).not.toBeNull();
          expect(w.start!).toBeLessThanOrEqual(t);
          expect(w.end!).toBeGreaterThan(t);
          expect(windowKeyAt(kind, w.start!, zone)).toBe(w.key);
          expect(windowKeyAt(kind, w.end! - 1, zone)).toBe(w.key);
          expect(windowKeyAt(kind, w.start! - 1, zone)).not.toBe(w.key);
          const next = nextWindow(w);
          expect(next.start).toBe(w.end);
          expect(previousWindow(next).key).toBe(w.key);
        },
      ),
      { numRuns: 400 },
    );
  });
});
