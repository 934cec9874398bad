/**
 * Secrets never in any execution's logs. The four bundles are deployed to the local server (its own runtime
 * runs them, as Appwrite would: a dynamic `ephemeral_` key per execution, users' JWTs for user calls) with
 * secret variables — the webhook URL (its token), a partner API token — and executed many ways: `/health`,
 * bad bodies, unknown routes, real work, user calls allowed and refused, hostile headers. Then every
 * execution's stored `logs` and `errors` are read back through the Executions API and searched for: the
 * project's API key, the variables' secret values, any dynamic key (`ephemeral_…`) and any JWT (`eyJ….…`).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deployFunction } from 'appwrite-local';
import { Client, Functions, ID, Users } from 'node-appwrite';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from '../../scripts/build-function.mjs';
import { FUNCTION_NAMES, type FunctionName, OUTSIDER, type System, TENANTS } from './system.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const PATTERNS = [/ephemeral_[A-Za-z0-9]/, /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/];

/** What the scenario saw. */
export interface SecretFigures {
  executions: number;
  logLines: number;
  leaks: number;
  /** Leaks the scan found in a control function that prints its secrets on purpose (must be > 0). */
  controlDetections: number;
}

/** Deploys the bundles with secret variables, runs `rounds` of executions, reads every execution's logs. */
export async function runSecretScan(
  system: System,
  options: { rounds: number },
): Promise<{ figures: SecretFigures; violations: string[] }> {
  const { server } = system;
  const admin = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  const functions = new Functions(admin);
  const users = new Users(admin);
  const partnerToken = `partner-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const staging = mkdtempSync(path.join(tmpdir(), 'secrets-bundles-'));
  const jwts: string[] = [];
  try {
    for (const name of FUNCTION_NAMES) {
      const dist = path.join(ROOT, 'functions', name, 'dist', 'main.js');
      if (!existsSync(dist)) await buildFunction(path.join(ROOT, 'functions', name));
      const dir = path.join(staging, name);
      mkdirSync(path.join(dir, 'dist'), { recursive: true });
      copyFileSync(dist, path.join(dir, 'dist', 'main.js'));
      writeFileSync(path.join(dir, 'package.json'), '{"type":"commonjs"}\n');
      for (const [key, value] of [
        ['NOTIFY_SLACK_WEBHOOK_URL', system.webhookUrl],
        ['PARTNER_API_TOKEN', partnerToken],
      ] as const) {
        await functions.createVariable({
          functionId: name,
          variableId: ID.unique(),
          key,
          value,
          secret: true,
        });
      }
      await deployFunction({
        endpoint: server.endpoint,
        projectId: server.projectId,
        apiKey: server.apiKey,
        functionId: name,
        dir,
        entrypoint: 'dist/main.js',
        commands: '',
      });
    }
    // The control: a function that prints its secret variable and its dynamic key, so the scan is seen to work.
    const control = path.join(staging, 'leaky-control');
    mkdirSync(control, { recursive: true });
    writeFileSync(
      path.join(control, 'index.js'),
      "module.exports = async ({ req, res, log }) => { log(process.env.PARTNER_API_TOKEN); log(req.headers['x-appwrite-key']); return res.json({ ok: true }); };\n",
    );
    await functions.create({
      functionId: 'leaky-control',
      name: 'leaky-control',
      runtime: 'node-22' as never,
      execute: [],
      entrypoint: 'index.js',
      commands: '',
    });
    await functions.createVariable({
      functionId: 'leaky-control',
      variableId: ID.unique(),
      key: 'PARTNER_API_TOKEN',
      value: partnerToken,
      secret: true,
    });
    await deployFunction({
      endpoint: server.endpoint,
      projectId: server.projectId,
      apiKey: server.apiKey,
      functionId: 'leaky-control',
      dir: control,
      entrypoint: 'index.js',
      commands: '',
    });
    await functions.createExecution({ functionId: 'leaky-control', xpath: '/' });

    const asUser = async (userId: string) => {
      const { jwt } = await users.createJWT({ userId });
      jwts.push(jwt);
      return new Functions(
        new Client().setEndpoint(server.endpoint).setProject(server.projectId).setJWT(jwt),
      );
    };
    const run = async (
      client: Functions,
      functionId: FunctionName,
      method: string,
      xpath: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      await client
        .createExecution({
          functionId,
          xpath,
          method: method as never,
          ...(body === undefined
            ? {}
            : {
                body: typeof body === 'string' ? body : JSON.stringify(body),
                headers: { 'content-type': 'application/json', ...headers },
              }),
          ...(body === undefined && Object.keys(headers).length ? { headers } : {}),
        })
        .catch(() => undefined); // a refused execution (401 for a user) has no record to read
    };
    for (let round = 0; round < options.rounds; round++) {
      for (const name of FUNCTION_NAMES) {
        await run(functions, name, 'GET', '/health');
        await run(functions, name, 'POST', '/', '{"not json');
        await run(functions, name, 'GET', '/no/such/route');
        await run(functions, name, 'GET', '/..', undefined, { authorization: `Bearer ${partnerToken}` });
      }
      await run(functions, 'job-worker', 'POST', '/', {});
      await run(functions, 'quota-reset', 'POST', '/', {});
      await run(functions, 'deploy-orchestrator', 'GET', '/functions/create-recognition/rollouts');
      await run(functions, 'deploy-orchestrator', 'POST', '/rollouts', {
        functionId: '..',
        apiKey: partnerToken,
      });
      await run(functions, 'create-recognition', 'GET', '/circuit-breakers');
      const alice = await asUser(TENANTS.a.owner);
      await run(alice, 'create-recognition', 'POST', '/recognitions', {
        orgId: TENANTS.a.orgId,
        receiverId: TENANTS.a.member,
        message: `round ${round}`,
      });
      await run(alice, 'create-recognition', 'GET', `/orgs/${TENANTS.b.orgId}/recognitions`);
      await run(alice, 'create-recognition', 'POST', '/exports', { orgId: TENANTS.a.orgId });
      await run(alice, 'create-recognition', 'POST', '/recognitions', {
        token: partnerToken,
        password: 'hunter2',
      });
      const oscar = await asUser(OUTSIDER);
      await run(oscar, 'create-recognition', 'GET', `/orgs/${TENANTS.a.orgId}/quotas`);
    }

    const secrets = [...system.secrets, partnerToken, ...jwts];
    const scan = async (functionId: string) => {
      const found: string[] = [];
      let count = 0;
      let lines = 0;
      const list = await functions.listExecutions({ functionId, total: true });
      for (const e of list.executions) {
        count++;
        const text = `${e.logs}\n${e.errors}`;
        lines += text.split('\n').filter(Boolean).length;
        for (const s of secrets) {
          if (text.includes(s))
            found.push(`${functionId} execution ${e.$id} printed a secret (${s.slice(0, 6)}…)`);
        }
        for (const p of PATTERNS) {
          if (p.test(text)) found.push(`${functionId} execution ${e.$id} printed a credential matching ${p}`);
        }
      }
      return { found, count, lines };
    };
    const violations: string[] = [];
    let executions = 0;
    let logLines = 0;
    for (const name of FUNCTION_NAMES) {
      const r = await scan(name);
      violations.push(...r.found);
      executions += r.count;
      logLines += r.lines;
    }
    const leaks = violations.length;
    // The control printed its token and its dynamic key: the scan must see both.
    const controlDetections = (await scan('leaky-control')).found.length;
    if (controlDetections < 2)
      violations.push(`the scan missed the control's leaks (${controlDetections} of 2)`);
    return { figures: { executions, logLines, leaks, controlDetections }, violations };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
