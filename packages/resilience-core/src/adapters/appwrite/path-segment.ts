import { errors } from '../../errors.ts';
import { ID_MESSAGE, ID_PATTERN } from '../../ids.ts';

/**
 * One path segment of an Appwrite REST URL (a database, table, row, column, team, function, deployment or
 * transaction id), checked rather than encoded: Appwrite ids and keys are 1–36 characters of `[a-zA-Z0-9._-]`
 * not starting with `.`, `_` or `-` ({@link ID_PATTERN}), so `.`, `..`, `%2F`, an empty string or anything
 * longer can never name a row — sent as a segment they would address another endpoint (`…/rows/..` is the
 * table). Anything else is refused with `INVALID_INPUT` naming the parameter, before a request is made.
 */
export function pathSegment(value: unknown, name = 'id'): string {
  if (typeof value === 'string' && ID_PATTERN.test(value)) return value;
  throw errors.invalidInput(`Not an Appwrite id: ${name}`, [{ path: name, message: ID_MESSAGE }]);
}
