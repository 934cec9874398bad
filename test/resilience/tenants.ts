/**
 * Two tenants probing each other. Tenant B owns a recognition, an export job and a quota increase request;
 * tenant A's owner and member try to read, list, page into, change, cancel, redrive, approve and smuggle their
 * way into them, by path, body, query and cursor. Required: every probe is refused; where the probe names one
 * of B's ids, the answer equals the answer for an id that does not exist (status, code and message, with the
 * id itself masked): nothing tells A that B's row exists; no answer carries B's data; B's rows are unchanged.
 */
import { listAll } from 'resilience-core';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { RECOGNITIONS_TABLE } from 'resilience-core/app';
import { JOB_TABLES } from 'resilience-core/jobs';
import { QUOTA_TABLES } from 'resilience-core/quota';
import { sealCursor } from 'resilience-core/runtime';
import type { CallResult, FunctionName, System } from './system.ts';
import { TENANTS } from './system.ts';

const B_SECRET = 'tenant-b-private-message';

/** What the probing found. */
export interface TenantFigures {
  probes: number;
  /** Probes answered 2xx (each is listed as a violation unless it is an own-org read that showed no B data). */
  accepted: number;
  /** Probes whose answer differed from the answer for a missing id (an existence oracle). */
  oracles: number;
  /** Answers that carried B's data. */
  leaks: number;
  /** B's rows changed by the probes. */
  crossWrites: number;
  /**
   * Control reads: B's owner reading, through the same routes, what A is refused. Each must answer 200 and show
   * B's data, or the refusals above prove nothing (a route that refused everyone would pass them).
   */
  controls: number;
}

interface Seeded {
  recognitionId: string;
  jobId: string;
  requestId: string;
}

async function seed(system: System, t: (typeof TENANTS)['a' | 'b'], message: string): Promise<Seeded> {
  const expectOk = (r: CallResult, what: string) => {
    if (r.status >= 300) throw new Error(`seeding ${what} failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as Record<string, string>;
  };
  const rec = expectOk(
    await system.call('create-recognition', {
      method: 'POST',
      path: '/recognitions',
      body: { orgId: t.orgId, receiverId: t.member, message },
      headers: system.as(t.owner),
    }),
    'recognition',
  );
  const job = expectOk(
    await system.call('create-recognition', {
      method: 'POST',
      path: '/exports',
      body: { orgId: t.orgId },
      headers: system.as(t.owner),
    }),
    'export',
  );
  const request = expectOk(
    await system.call('create-recognition', {
      method: 'POST',
      path: `/orgs/${t.orgId}/quota-requests`,
      body: {
        quotaType: 'recognitions_per_day',
        amount: 500,
        permanent: true,
        reason: `more for ${message}`,
      },
      headers: system.as(t.member),
    }),
    'increase request',
  );
  return { recognitionId: rec.$id!, jobId: job.jobId!, requestId: (request.id ?? request.$id)! };
}

/** B's rows, as a comparable snapshot. */
async function snapshotB(system: System): Promise<string> {
  const store = createAppwriteTableStore({
    endpoint: system.server.endpoint,
    projectId: system.server.projectId,
    key: system.server.apiKey,
  });
  const where = [{ field: 'orgId', op: 'eq' as const, value: TENANTS.b.orgId }];
  const parts = await Promise.all(
    [RECOGNITIONS_TABLE, JOB_TABLES.queue, QUOTA_TABLES.increaseRequests, QUOTA_TABLES.usage].map((t) =>
      listAll(store, t, { where }),
    ),
  );
  return JSON.stringify(parts);
}

/** Runs the probes `rounds` times (the long form repeats them, interleaved with B's own traffic). */
export async function runTenantProbes(
  system: System,
  options: { rounds: number },
): Promise<{ figures: TenantFigures; violations: string[] }> {
  const a = TENANTS.a;
  const b = TENANTS.b;
  await seed(system, a, 'tenant-a-message');
  const bs = await seed(system, b, B_SECRET);
  const figures: TenantFigures = {
    probes: 0,
    accepted: 0,
    oracles: 0,
    leaks: 0,
    crossWrites: 0,
    controls: 0,
  };
  const violations: string[] = [];
  const before = await snapshotB(system);

  const call = async (fn: FunctionName, user: string, method: string, path: string, body?: unknown) => {
    figures.probes++;
    const r = await system.call(fn, {
      method,
      path,
      ...(body !== undefined ? { body } : {}),
      headers: system.as(user),
    });
    const text = JSON.stringify(r.body);
    if (text.includes(B_SECRET) || text.includes(b.member) || text.includes(b.owner)) {
      figures.leaks++;
      violations.push(`B's data in ${method} ${path} as ${user}: ${text.slice(0, 300)}`);
    }
    return r;
  };
  const refused = (r: CallResult, user: string) => {
    if (r.status < 400) {
      figures.accepted++;
      violations.push(
        `accepted: ${r.method} ${r.path} as ${user} → ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`,
      );
    }
    if (r.status >= 500) violations.push(`5xx: ${r.method} ${r.path} as ${user} → ${r.status}`);
  };
  /** The probe with B's id and the same probe with a missing id must answer alike. */
  const sameAsMissing = async (
    user: string,
    method: string,
    template: (id: string) => string,
    id: string,
    body?: unknown,
  ) => {
    const missing = `${id.slice(0, 10)}0missing`;
    const real = await call('create-recognition', user, method, template(id), body);
    const absent = await call('create-recognition', user, method, template(missing), body);
    refused(real, user);
    const mask = (r: CallResult, value: string) =>
      JSON.stringify({ status: r.status, body: { ...(r.body as object), traceId: undefined } })
        .split(value)
        .join('<id>');
    if (mask(real, id) !== mask(absent, missing)) {
      figures.oracles++;
      violations.push(
        `oracle: ${method} ${template(id)} as ${user}: ${mask(real, id)} vs missing ${mask(absent, missing)}`,
      );
    }
  };

  // The controls: what A probes below is there, and B's owner reads it through the same routes.
  for (const [path, shows] of [
    [`/orgs/${b.orgId}/recognitions`, B_SECRET],
    [`/orgs/${b.orgId}/quotas`, b.orgId],
    [`/orgs/${b.orgId}/quota-requests`, bs.requestId],
    [`/orgs/${b.orgId}/quota-requests/${bs.requestId}`, bs.requestId],
    [`/status/${bs.jobId}`, bs.jobId],
  ] as const) {
    const r = await system.call('create-recognition', { method: 'GET', path, headers: system.as(b.owner) });
    figures.controls++;
    if (r.status !== 200 || !JSON.stringify(r.body).includes(shows)) {
      violations.push(`control: GET ${path} as B's owner → ${r.status}, expected 200 showing ${shows}`);
    }
  }

  for (let round = 0; round < options.rounds; round++) {
    for (const user of [a.owner, a.member]) {
      // Another org's lists and settings, by path.
      for (const path of [
        `/orgs/${b.orgId}/recognitions`,
        `/orgs/${b.orgId}/quotas`,
        `/orgs/${b.orgId}/quotas/recognitions_per_day`,
        `/orgs/${b.orgId}/quota-requests`,
        `/orgs/${b.orgId}/quota-requests/${bs.requestId}`,
        `/orgs/${b.orgId}/quota-audit`,
      ]) {
        refused(await call('create-recognition', user, 'GET', path), user);
      }
      refused(
        await call('create-recognition', user, 'PUT', `/orgs/${b.orgId}/quota-settings`, {
          plan: 'enterprise',
        }),
        user,
      );
      // Writes into B, by body.
      refused(
        await call('create-recognition', user, 'POST', '/recognitions', {
          orgId: b.orgId,
          receiverId: b.member,
          message: 'into b',
        }),
        user,
      );
      refused(
        await call('create-recognition', user, 'POST', '/recognitions', {
          orgId: a.orgId,
          receiverId: b.member,
          message: 'to a b member',
        }),
        user,
      );
      refused(await call('create-recognition', user, 'POST', '/exports', { orgId: b.orgId }), user);
      refused(
        await call('create-recognition', user, 'POST', '/cleanups', { orgId: b.orgId, daysOld: 1 }),
        user,
      );
      refused(
        await call('create-recognition', user, 'POST', `/orgs/${b.orgId}/quota-requests`, {
          quotaType: 'recognitions_per_day',
          amount: 9000,
          permanent: true,
          reason: 'smuggled',
        }),
        user,
      );
      // Smuggling: the path says A, the body or the query says B.
      refused(
        await call('create-recognition', user, 'POST', `/orgs/${a.orgId}/quota-requests`, {
          orgId: b.orgId,
          quotaType: 'recognitions_per_day',
          amount: 9000,
          permanent: true,
          reason: 'smuggled',
        }),
        user,
      );
      refused(
        await call('create-recognition', user, 'GET', `/orgs/${a.orgId}/recognitions?orgId=${b.orgId}`),
        user,
      );
      // B's ids through A's own routes: the same answer as a missing id.
      await sameAsMissing(user, 'GET', (id) => `/status/${id}`, bs.jobId);
      await sameAsMissing(user, 'GET', (id) => `/exports/${id}`, bs.jobId);
      await sameAsMissing(user, 'POST', (id) => `/jobs/${id}/cancel`, bs.jobId, {});
      await sameAsMissing(user, 'POST', (id) => `/jobs/${id}/redrive`, bs.jobId, {});
      await sameAsMissing(user, 'GET', (id) => `/orgs/${a.orgId}/quota-requests/${id}`, bs.requestId);
      await sameAsMissing(
        user,
        'POST',
        (id) => `/orgs/${a.orgId}/quota-requests/${id}/approve`,
        bs.requestId,
        {},
      );
      await sameAsMissing(
        user,
        'POST',
        (id) => `/orgs/${a.orgId}/quota-requests/${id}/reject`,
        bs.requestId,
        {},
      );
      // Cursors naming B's row, raw and sealed: the same answer as a missing row.
      await sameAsMissing(
        user,
        'GET',
        (id) => `/orgs/${a.orgId}/recognitions?cursor=${id}`,
        bs.recognitionId,
      );
      const sealed = sealCursor(bs.recognitionId, { table: RECOGNITIONS_TABLE })!;
      const sealedMissing = sealCursor(`${bs.recognitionId.slice(0, 10)}0missing`, {
        table: RECOGNITIONS_TABLE,
      })!;
      const viaSealed = await call(
        'create-recognition',
        user,
        'GET',
        `/orgs/${a.orgId}/recognitions?cursor=${sealed}`,
      );
      const viaMissing = await call(
        'create-recognition',
        user,
        'GET',
        `/orgs/${a.orgId}/recognitions?cursor=${sealedMissing}`,
      );
      refused(viaSealed, user);
      const strip = (r: CallResult) =>
        JSON.stringify({ s: r.status, b: { ...(r.body as object), traceId: undefined } });
      if (strip(viaSealed) !== strip(viaMissing)) {
        figures.oracles++;
        violations.push(`oracle: sealed cursor of B's row: ${strip(viaSealed)} vs ${strip(viaMissing)}`);
      }
      // A's own list, filtered by a B member: answers, with none of B's rows.
      const own = await call(
        'create-recognition',
        user,
        'GET',
        `/orgs/${a.orgId}/recognitions?receiverId=${b.member}`,
      );
      if (own.status !== 200 || (own.body as { rows: unknown[] }).rows.length !== 0) {
        violations.push(
          `own list filtered by a B member: ${own.status} ${JSON.stringify(own.body).slice(0, 200)}`,
        );
      }
    }
  }

  const after = await snapshotB(system);
  if (after !== before) {
    figures.crossWrites++;
    violations.push("B's rows changed during A's probes");
  }
  return { figures, violations };
}
