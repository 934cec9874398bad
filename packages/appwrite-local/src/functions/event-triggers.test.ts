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
});
