/**
 * Breaker names and scopes become row ids (`circuit-breakers`, and the bucket and probe rows keyed by them).
 * Appwrite on MariaDB compares `$id` case-, accent- and trailing-space-insensitively (`utf8mb4_general_ci`,
 * platform notes §F1), so every id goes through `stableId`, which never gives two different parts ids that
 * compare equal that way. Run against the local server in both collation modes (its `collation` start option).
 */
import { hasCode, listAll, stableId } from 'resilience-core';
import {
  CIRCUIT_BREAKER_BUCKETS_TABLE,
  CIRCUIT_BREAKERS_TABLE,
  CircuitBreaker,
  CircuitBreakerRegistry,
  circuitBreakerKey,
  circuitBreakerTables,
} from 'resilience-core/circuit-breaker';
import { ManualClock } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalTables, startLocalWithTables } from './appwrite-local-helpers.ts';
import { dependency } from './circuit-breaker-helpers.ts';

/** How `utf8mb4_general_ci` compares: case and accents folded, trailing spaces ignored. */
function generalCi(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/ +$/, '');
}

const NAMES = ['slack', 'Slack', 'SLACK', 'sLack', 'slack.v2', 'Slack.v2', 'slack-v2'];
const SCOPES = [
  null,
  'acme',
  'Acme',
  'ACME',
  'acme ',
  'café',
  'cafe',
  'Café',
  'CAFE',
  'org.acme',
  'Org.acme',
];

describe('breaker ids never collide under a case- and accent-insensitive collation', () => {
  it('every (name, scope) pair has its own row id, bucket ids and probe ids, compared as general_ci compares', () => {
    const keys = NAMES.flatMap((name) => SCOPES.map((scope) => circuitBreakerKey(name, scope)));
    expect(new Set(keys.map(generalCi)).size).toBe(NAMES.length * SCOPES.length);
    for (const key of keys) expect(key).toBe(key.toLowerCase());
    const buckets = keys.flatMap((key) => ['ok', 'fail'].map((kind) => stableId('cbb', key, 1, 0, kind)));
    expect(new Set(buckets.map(generalCi)).size).toBe(buckets.length);
    const probes = keys.map((key) => stableId('cbp', key, 1, 0));
    expect(new Set(probes.map(generalCi)).size).toBe(probes.length);
  });

  it('refuses a scope the row cannot hold with a clear INVALID_INPUT (not a silent local-only breaker)', () => {
    for (const scope of ['', 'x'.repeat(65)]) {
      let error: unknown;
      try {
        new CircuitBreaker('slack', {}, { scope });
      } catch (e) {
        error = e;
      }
      expect(hasCode(error, 'INVALID_INPUT')).toBe(true);
      expect((error as Error).message).toBe('Invalid circuit breaker scope');
    }
  });
});

for (const collation of ['utf8mb4_general_ci', 'binary'] as const) {
  describe(`breakers differing only in case or accents keep their own rows (local server, ${collation})`, () => {
    let local: LocalTables;
    beforeAll(async () => {
      // `collation` is the local server's start option (case/accent-insensitive by default, or binary).
      local = await startLocalWithTables(circuitBreakerTables, { collation } as never);
    });
    afterAll(async () => {
      await local?.stop();
    });

    it('isolating `Slack` (and scope `Café`) leaves `slack`, `SLACK`, scope `cafe` and `CAFE` closed', async () => {
      const clock = new ManualClock();
      const registry = new CircuitBreakerRegistry({ store: local.store(), clock });
      const pairs: [string, string | null][] = [
        ['Slack', null],
        ['slack', null],
        ['SLACK', null],
        ['slack', 'Café'],
        ['slack', 'cafe'],
        ['slack', 'CAFE'],
        ['slack', 'café'],
      ];
      for (const [name, scope] of pairs) {
        // Every breaker writes its row (and an outcome bucket) before any is isolated.
        await registry.get(name, scope).reset();
        await registry.get(name, scope).execute(dependency(clock, 'ok'));
      }
      await registry.flush();
      await registry.get('Slack').isolate('incident');
      await registry.get('slack', 'Café').isolate('incident');
      const rows = await listAll(local.store(), CIRCUIT_BREAKERS_TABLE);
      expect(rows).toHaveLength(pairs.length);
      const byPair = new Map(rows.map((r) => [`${r.name}|${r.scope ?? ''}`, r]));
      expect(byPair.get('Slack|')).toMatchObject({ state: 'OPEN', isolated: true, version: 2 });
      expect(byPair.get('slack|Café')).toMatchObject({ state: 'OPEN', isolated: true, version: 2 });
      for (const key of ['slack|', 'SLACK|', 'slack|cafe', 'slack|CAFE', 'slack|café']) {
        expect(byPair.get(key), key).toMatchObject({ state: 'CLOSED', version: 1 });
      }
      // A fresh execution (new registry) sees the same split.
      const fresh = new CircuitBreakerRegistry({ store: local.store(), clock });
      for (const [name, scope] of pairs) {
        const open = (name === 'Slack' && scope === null) || scope === 'Café';
        const outcome = await fresh
          .get(name, scope)
          .execute(dependency(clock, 'ok'))
          .then(
            () => 'ran',
            (error: unknown) => (hasCode(error, 'CIRCUIT_OPEN') ? 'open' : 'error'),
          );
        expect(outcome, `${name}/${scope}`).toBe(open ? 'open' : 'ran');
      }
      // One success bucket per breaker: no two breakers counted into one row.
      const buckets = await listAll(local.store(), CIRCUIT_BREAKER_BUCKETS_TABLE);
      expect(buckets).toHaveLength(pairs.length);
      expect(new Set(buckets.map((b) => b.breakerKey)).size).toBe(pairs.length);
    });
  });
}
