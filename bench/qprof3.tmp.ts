import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAppwriteLocal } from 'appwrite-local';
import { DATABASE_ID, quotaTables, QuotaService, updateQuotaSettings, MAX_QUOTA_AMOUNT } from 'resilience-core';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
const dir = mkdtempSync(join(tmpdir(), 'qp-'));
const config = join(dir, 'appwrite.json');
writeFileSync(config, JSON.stringify({ projectId: 'b', tablesDB: [{ $id: DATABASE_ID, name: DATABASE_ID, enabled: true }],
  tables: quotaTables.map((t) => ({ ...t, databaseId: DATABASE_ID, enabled: true, rowSecurity: false, $permissions: [], columns: t.columns.map((c) => ({ array: false, ...c })) })) }));
const server = await startAppwriteLocal({ port: 0, memory: true, projectId: 'b', apiKey: 'key', config });
const mk = () => createAppwriteTableStore({ endpoint: server.endpoint, projectId: server.projectId, key: server.apiKey });
const stores = Array.from({ length: 50 }, mk);
await updateQuotaSettings(stores[0]!, { userId: null, orgId: 'o', isAdmin: true }, { overrides: { api_calls_per_hour: MAX_QUOTA_AMOUNT } }, Date.now());
const services = stores.map((store) => new QuotaService({ store }));
await Promise.all(services.map((s) => s.consume('o', 'api_calls_per_hour')));
const id = (await services[0]!.consume('o', 'api_calls_per_hour')).ticket!.usageId;
await stores[0]!.create('quota-usage', 'r1', { orgId: 'o', quotaType: 'exports_per_day', windowKey: 'k', windowStart: null, windowEnd: null, timeZone: 'UTC', used: 0, reserved: 0 });
async function run<C>(name: string, cs: C[], op: (c: C) => Promise<unknown>, n = 2000) {
  let next = 0;
  const t = process.hrtime.bigint();
  await Promise.all(cs.map(async (c) => { while (next++ < n) await op(c); }));
  console.log(name, Math.round(n / (Number(process.hrtime.bigint() - t) / 1e9)), 'ops/s');
}
for (let i = 0; i < 3; i++) {
  await run('consume', services, (s) => s.consume('o', 'api_calls_per_hour'));
  await run('raw increment same row', stores, (s) => s.increment('quota-usage', id, 'used', 1, { max: 1e9 }));
  await run('seed get+update', stores, async (s) => { const r = await s.get<{used:number}>('quota-usage', 'r1'); await s.update('quota-usage', 'r1', { used: r!.used + 1 }); });
  await run('raw increment r1', stores, (s) => s.increment('quota-usage', 'r1', 'used', 1, { max: 1e9 }));
}
await server.stop();
