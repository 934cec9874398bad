/**
 * Fault injection (tests only): makes chosen requests fail the way Appwrite on MariaDB can under contention, so
 * callers can prove their handling of unknown outcomes (platform notes §F3). A rule names a request pattern
 * (method and a regular expression over the path below `/v1`), how many matching requests it hits (`times`,
 * default 1) and what happens to them:
 *
 * - `error`: answered with an Appwrite error (`status`, `type`, optional `message`) before the handler runs:
 *   nothing is applied.
 * - `drop`: the handler runs (the write is applied), then the connection is destroyed without a response: the
 *   caller sees a network failure and cannot know the outcome.
 * - `commit-failed` (transaction commit requests only): 400 `transaction_failed`, the transaction becomes
 *   `failed`, nothing is applied (Appwrite's answer to a utopia `TransactionException`, `Transactions/Update.php:
 *   332-336`).
 * - `commit-stuck` (transaction commit requests only): 500 `general_unknown`, nothing is applied and the
 *   transaction stays `committing` for good, so a later rollback or commit is 400 `transaction_not_ready` (what
 *   an uncaught deadlock `PDOException` leaves behind).
 *
 * Rules are taken in the order they were added; a rule is used up after `times` hits. Programmatic: the server
 * handle's `faults`; out of process: `POST|GET|DELETE /v1/local/faults` with the server's API key.
 */
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppwriteError, invalidArgument } from './errors.ts';
import type { Router } from './server-context.ts';

/** What a matching request suffers. */
export type FaultAction =
  | { kind: 'error'; status: number; type: string; message?: string }
  | { kind: 'drop' }
  | { kind: 'commit-failed' }
  | { kind: 'commit-stuck' };

/** A rule as callers give it. */
export interface FaultRule {
  /** HTTP method (any when absent), e.g. `PATCH`. */
  method?: string;
  /** Matched against the path below `/v1`, e.g. `^/tablesdb/transactions/[^/]+$`. */
  path: string | RegExp;
  /** Matching requests it affects; default 1. */
  times?: number;
  action: FaultAction;
}

/** A rule as listed. */
export interface FaultInfo {
  id: string;
  method?: string;
  path: string;
  remaining: number;
  action: FaultAction;
}

/** The switch. */
export interface FaultInjector {
  /** Adds a rule; returns its id. Throws on a bad rule. */
  add(rule: FaultRule): string;
  /** Removes one rule (by id) or, without an id, every rule. */
  clear(id?: string): void;
  /** The active rules. */
  list(): FaultInfo[];
  /** Takes the first rule matching `method` + `path` whose action is one of `kinds` (counts a hit). */
  take<K extends FaultAction['kind']>(
    method: string,
    path: string,
    kinds: readonly K[],
  ): Extract<FaultAction, { kind: K }> | undefined;
}

const actionSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('error'),
    status: z.number().int().min(400).max(599),
    type: z.string().min(1),
    message: z.string().optional(),
  }),
  z.object({ kind: z.literal('drop') }),
  z.object({ kind: z.literal('commit-failed') }),
  z.object({ kind: z.literal('commit-stuck') }),
]);

/** The HTTP body of `POST /v1/local/faults` (the path as a regular-expression source). */
export const faultRuleSchema = z.object({
  method: z.string().min(1).optional(),
  path: z.string().min(1),
  times: z.number().int().min(1).optional(),
  action: actionSchema,
});

interface ActiveRule {
  id: string;
  method?: string | undefined;
  path: RegExp;
  remaining: number;
  action: FaultAction;
}

/** Creates an empty fault switch. */
export function createFaultInjector(): FaultInjector {
  const rules: ActiveRule[] = [];
  let next = 1;
  return {
    add(rule) {
      const parsed = faultRuleSchema.safeParse({
        ...rule,
        path: rule.path instanceof RegExp ? rule.path.source : rule.path,
      });
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw invalidArgument(`Invalid fault rule: ${issue?.path.join('.')}: ${issue?.message}`);
      }
      let path: RegExp;
      try {
        path = rule.path instanceof RegExp ? rule.path : new RegExp(rule.path);
      } catch (e) {
        throw invalidArgument(`Invalid fault rule: path: ${(e as Error).message}`);
      }
      const id = `fault-${next++}`;
      rules.push({
        id,
        method: parsed.data.method?.toUpperCase(),
        path,
        remaining: parsed.data.times ?? 1,
        action: parsed.data.action as FaultAction,
      });
      return id;
    },
    clear(id) {
      if (id === undefined) rules.length = 0;
      else {
        const i = rules.findIndex((r) => r.id === id);
        if (i >= 0) rules.splice(i, 1);
      }
    },
    list() {
      return rules.map((r) => ({
        id: r.id,
        ...(r.method ? { method: r.method } : {}),
        path: r.path.source,
        remaining: r.remaining,
        action: r.action,
      }));
    },
    take(method, path, kinds) {
      const i = rules.findIndex(
        (r) =>
          (kinds as readonly string[]).includes(r.action.kind) &&
          (!r.method || r.method === method) &&
          r.path.test(path),
      );
      const rule = rules[i];
      if (!rule) return undefined;
      rule.remaining--;
      if (rule.remaining <= 0) rules.splice(i, 1);
      return rule.action as never;
    },
  };
}

/** The paths of the fault routes themselves (never subject to faults). */
export const FAULTS_PATH = '/local/faults';

/**
 * `POST /v1/local/faults` (a rule: `{method?, path, times?, action}` → 201 `{id}`), `GET` (→ `{total, faults}`),
 * `DELETE` (clears all; `?id=` one) — only with the server's own API key in `X-Appwrite-Key` (401 otherwise).
 */
export function faultRoutes(router: Router, faults: FaultInjector, apiKey: string): void {
  const guard = (headers: Record<string, string | undefined>) => {
    const given = Buffer.from(headers['x-appwrite-key'] ?? '');
    const want = Buffer.from(apiKey);
    if (given.length !== want.length || !timingSafeEqual(given, want)) {
      throw new AppwriteError('general_unauthorized_scope', 'Fault injection requires the server API key.');
    }
  };
  router.add({
    method: 'POST',
    path: FAULTS_PATH,
    scope: null,
    handler: (req) => {
      guard(req.headers);
      const parsed = faultRuleSchema.safeParse(req.body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw invalidArgument(`Invalid fault rule: ${issue?.path.join('.')}: ${issue?.message}`);
      }
      return { status: 201, json: { id: faults.add(parsed.data as FaultRule) } };
    },
  });
  router.add({
    method: 'GET',
    path: FAULTS_PATH,
    scope: null,
    handler: (req) => {
      guard(req.headers);
      const list = faults.list();
      return { status: 200, json: { total: list.length, faults: list } };
    },
  });
  router.add({
    method: 'DELETE',
    path: FAULTS_PATH,
    scope: null,
    handler: (req) => {
      guard(req.headers);
      faults.clear(typeof req.query.id === 'string' ? req.query.id : undefined);
      return { status: 204 };
    },
  });
}
