/**
 * The scripted scenario `npm start` runs after deploying: a list of steps that show each service working
 * against the local server through the real SDK. Services append their steps: write them in
 * `scripts/scenario-<service>.ts` as `export const <service>Steps: ScenarioStep[]`, then add one import line and
 * one spread line to `scenarioSteps` below. Steps run in order and share `ctx.state`; a failing step is
 * reported and the run goes on (steps that need its state then fail too, with their own message).
 */
import { Teams, Users } from 'node-appwrite';
import { breakerSteps } from './scenario-breaker.ts';
import { check, type ScenarioContext, type ScenarioStep } from './scenario-context.ts';
import { jobsSteps } from './scenario-jobs.ts';
import { quotaSteps } from './scenario-quota.ts';
import { rolloutSteps } from './scenario-rollout.ts';

export {
  check,
  type ExecuteRequest,
  type ExecuteResult,
  type ScenarioContext,
  type ScenarioStep,
  scenarioContext,
} from './scenario-context.ts';

import { errorText } from 'resilience-core';

const healthStep: ScenarioStep = {
  name: 'every deployed function answers GET /health',
  async run(ctx) {
    check(ctx.deployed.length > 0, 'no function was deployed');
    const lines: string[] = [];
    for (const id of ctx.deployed) {
      const r = await ctx.execute(id, { path: '/health' });
      check(
        r.statusCode === 200,
        `${id}: /health answered ${r.statusCode} ${JSON.stringify(r.body)} ${r.execution.errors}`,
      );
      lines.push(`${id} ${r.execution.duration.toFixed(3)}s`);
    }
    return lines.join(', ');
  },
};

/** An organization (team) with an owner and a member. */
const orgStep: ScenarioStep = {
  name: 'an organization (team) with two members',
  async run(ctx) {
    const users = new Users(ctx.client);
    const teams = new Teams(ctx.client);
    const orgId = `org-${ctx.runId}`;
    await teams.create({ teamId: orgId, name: `Acme ${ctx.runId}` });
    const alice = await users.create({
      userId: `alice-${ctx.runId}`,
      email: `alice-${ctx.runId}@example.com`,
      name: 'Alice',
    });
    const bob = await users.create({
      userId: `bob-${ctx.runId}`,
      email: `bob-${ctx.runId}@example.com`,
      name: 'Bob',
    });
    await teams.createMembership({ teamId: orgId, roles: ['owner'], userId: alice.$id });
    await teams.createMembership({ teamId: orgId, roles: ['member'], userId: bob.$id });
    const members = await teams.listMemberships({ teamId: orgId });
    check(members.total === 2, `expected 2 memberships, got ${members.total}`);
    Object.assign(ctx.state, { orgId, aliceId: alice.$id, bobId: bob.$id });
    return `${orgId}: ${alice.$id} (owner), ${bob.$id} (member)`;
  },
};

/** A recognition through create-recognition, idempotent on `requestId`, then listed. */
const recognitionStep: ScenarioStep = {
  name: 'alice (signed in, user JWT) recognizes bob through create-recognition',
  async run(ctx) {
    const { orgId, aliceId, bobId } = ctx.state;
    check(orgId && aliceId && bobId, 'needs the organization step');
    // Alice calls as herself: the giver is the JWT's user (x-appwrite-user-id), not a body field.
    const body = {
      orgId,
      receiverId: bobId,
      message: 'Thanks for the thorough review!',
      points: 10,
      tags: ['teamwork'],
      requestId: `scenario-${ctx.runId}`,
    };
    const request = { path: '/recognitions', method: 'POST', body } as const;
    const first = await ctx.executeAsUser(aliceId, 'create-recognition', request);
    check(first.statusCode === 201, `create answered ${first.statusCode}: ${JSON.stringify(first.body)}`);
    const id = idIn(first.body);
    check(id, `no $id in the create answer: ${JSON.stringify(first.body)}`);
    const again = await ctx.executeAsUser(aliceId, 'create-recognition', request);
    check(again.statusCode === 200, `a repeated requestId answered ${again.statusCode}, expected 200`);
    check(idIn(again.body) === id, 'a repeated requestId returned a different recognition');
    const list = await ctx.execute('create-recognition', { path: `/orgs/${orgId}/recognitions` });
    check(list.statusCode === 200, `list answered ${list.statusCode}: ${JSON.stringify(list.body)}`);
    check(JSON.stringify(list.body).includes(id), `the org's list lacks ${id}`);
    check(
      JSON.stringify(first.body).includes(`"giverId":"${aliceId}"`),
      `the giver is not the signed-in user: ${JSON.stringify(first.body)}`,
    );
    ctx.state.recognitionId = id;
    return `${id}: 201 as ${aliceId} (JWT), then 200 with the same row for the same requestId; listed in ${orgId}`;
  },
};

/** The first `$id` anywhere in a JSON answer (routes may wrap the row in an envelope). */
function idIn(body: unknown): string | undefined {
  return /"\$id":"([^"]+)"/.exec(JSON.stringify(body) ?? '')?.[1];
}

/** The steps `npm start` runs, in order. Append yours here (one import + one spread per service). */
export const scenarioSteps: ScenarioStep[] = [
  healthStep,
  orgStep,
  recognitionStep,
  ...breakerSteps,
  ...jobsSteps,
  ...quotaSteps,
  ...rolloutSteps,
];

/** Runs steps in order, printing one line per step; returns the counts. */
export async function runScenario(
  ctx: ScenarioContext,
  steps: readonly ScenarioStep[] = scenarioSteps,
  print: (line: string) => void = (line) => console.log(line),
): Promise<{ passed: number; failed: number }> {
  let passed = 0;
  let failed = 0;
  for (const step of steps) {
    const started = performance.now();
    try {
      const detail = await step.run(ctx);
      passed++;
      const ms = Math.round(performance.now() - started);
      print(`  ✓ ${step.name} (${ms} ms)${detail ? ` — ${detail}` : ''}`);
    } catch (e) {
      failed++;
      print(`  ✗ ${step.name}: ${errorText(e)}`);
    }
  }
  return { passed, failed };
}
