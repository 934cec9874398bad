/**
 * The resilience suite's rollout scenario: the local server SIGKILLed mid-rollout (and once together with the
 * CLI), restarted on its data; the rollout ends SUCCEEDED, by the surviving CLI or by `resume`.
 */
import { describe, expect, it } from 'vitest';
import { runRolloutKill } from './rollout-kill.ts';

describe('the local server killed mid-rollout', () => {
  it('the running CLI rides out the outage, and resume finishes a rollout whose CLI died too', async () => {
    const { figures, violations } = await runRolloutKill({ outageMs: 1_500 });
    console.log(`rollout kill: ${JSON.stringify(figures)}`);
    expect(violations).toEqual([]);
    expect(figures).toMatchObject({ serverKills: 2, survivorExit: 0, resumeExit: 0, rolloutsSucceeded: 2 });
  }, 180_000);
});
