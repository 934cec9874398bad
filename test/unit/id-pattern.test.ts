import { describe, expect, it } from 'vitest';
import { breakerNameSchema } from '../../packages/resilience-core/src/circuit-breaker/index.ts';
import { ID_PATTERN, NAME_PATTERN } from '../../packages/resilience-core/src/index.ts';
import { assertQuotaOrgId } from '../../packages/resilience-core/src/quota/quota-service.ts';

describe('the one id pattern', () => {
  it('ids: 1–36 of [a-zA-Z0-9._-], alphanumeric first; names: the same alphabet up to 64', () => {
    expect(ID_PATTERN.test('a'.repeat(36))).toBe(true);
    expect(ID_PATTERN.test('a'.repeat(37))).toBe(false);
    expect(ID_PATTERN.test('_a')).toBe(false);
    expect(NAME_PATTERN.test('a'.repeat(64))).toBe(true);
    expect(NAME_PATTERN.test('a'.repeat(65))).toBe(false);
    expect(NAME_PATTERN.test('.a')).toBe(false);
  });

  it('the sites that re-typed it answer by it', () => {
    expect(() => assertQuotaOrgId('org-1')).not.toThrow();
    expect(() => assertQuotaOrgId('a'.repeat(37))).toThrow(/orgId must be an Appwrite id/);
    expect(breakerNameSchema.safeParse('db.users').success).toBe(true);
    expect(breakerNameSchema.safeParse('a'.repeat(65)).success).toBe(false);
  });
});
