import { describe, expect, it } from 'vitest';
import { eventMatches } from './event-triggers.ts';

const row = 'databases.db.tables.notes.rows.r1.create';

describe('eventMatches', () => {
  it.each([
    ['databases.*.tables.*.rows.*.create', row, true],
    ['databases.db.tables.notes.rows.r1.create', row, true],
    ['databases.*.tables.*.rows.*', row, true],
    ['databases.db.tables.notes.rows.*.update', row, false],
    ['databases.other.tables.*.rows.*.create', row, false],
    ['databases.*.tables.*', row, false],
    ['databases.*.tables.*.rows.*.create.extra', row, false],
    ['*.*.*.*.*.*.*', row, true],
    ['users.*.create', 'users.u1.create', true],
    ['users.*.create', row, false],
  ])('%s vs %s → %s', (pattern, name, expected) => {
    expect(eventMatches(pattern, name)).toBe(expected);
  });

  it('matches ids that contain dots when given the segments (Appwrite ids may hold `.`)', () => {
    const parts = ['databases', 'db', 'tables', 'job-queue', 'rows', 'jk.org-1.export', 'create'];
    expect(eventMatches('databases.*.tables.*.rows.*.create', parts)).toBe(true);
    expect(eventMatches('databases.*.tables.job-queue.rows.*', parts)).toBe(true);
    expect(eventMatches('databases.*.tables.*.rows.jk.org-1.export.create', parts)).toBe(true);
    expect(eventMatches('databases.*.tables.*.rows.jk.create', parts)).toBe(false);
    expect(eventMatches('databases.*.tables.*.rows.jk.*.create', parts)).toBe(false);
    expect(eventMatches('databases.*.tables.*', parts)).toBe(false);
    // Split on dots, the same name has too many segments for the pattern.
    expect(eventMatches('databases.*.tables.*.rows.*.create', parts.join('.'))).toBe(false);
  });
});
