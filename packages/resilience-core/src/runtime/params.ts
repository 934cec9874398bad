import type { z } from 'zod';
import { errors } from '../errors.ts';
import { ID_PATTERN } from '../ids.ts';
import { invalidInput } from './responses.ts';

/**
 * The names of the `:name` segments of a path literal: `PathParamNames<'/orgs/:orgId/jobs/:jobId'>` is
 * `'orgId' | 'jobId'`.
 */
export type PathParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | PathParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** The path parameters of a route, typed from its path literal (a plain record when the path is a `string`). */
export type PathParams<P extends string> = string extends P
  ? Record<string, string>
  : { [K in PathParamNames<P>]: string };

const ID_MESSAGE = 'must be an id: 1-36 characters [a-zA-Z0-9._-], not starting with . - or _';

/**
 * Validates a route's path parameters at the edge, before auth and before any store call: with the route's
 * own `params` schema when it declares one (e.g. breaker names, which may be longer than an id), else every
 * parameter must be an Appwrite id ({@link ID_PATTERN}). So `.`, `..`, `a/b` (decoded from `%2F`) or a
 * 37-character value is a 400 naming the parameter — never a row id that reaches the adapter, where `…/rows/..`
 * would address the table. The answer reveals only the id alphabet, which is public.
 */
export function validateParams(params: Record<string, string>, schema?: z.ZodType): Record<string, string> {
  if (schema) {
    const parsed = schema.safeParse(params);
    if (!parsed.success) throw invalidInput('path', parsed.error);
    return parsed.data as Record<string, string>;
  }
  const issues = Object.entries(params)
    .filter(([, value]) => !ID_PATTERN.test(value))
    .map(([name]) => ({ path: name, message: ID_MESSAGE }));
  if (issues.length > 0) {
    throw errors.invalidInput(`Invalid path parameter ${issues.map((i) => i.path).join(', ')}`, issues);
  }
  return params;
}
