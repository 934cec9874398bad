import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { MAX_QUOTA_AMOUNT, QuotaService, quotaTables, uniqueIndexesOf, updateQuotaSettings } from 'resilience-core';
const memory = new MemoryTableStore({ unique: uniqueIndexesOf(quotaTables) });
await updateQuotaSettings(memory, { userId: null, orgId: 'o', isAdmin: true }, { overrides: { api_calls_per_hour: MAX_QUOTA_AMOUNT } }, Date.now());
const ours = new QuotaService({ store: memory });
await ours.consume('o', 'api_calls_per_hour');
const t0 = performance.now();
for (let i = 0; i < 300_000; i++) await ours.consume('o', 'api_calls_per_hour');
console.log('ns/consume', ((performance.now() - t0) * 1e6) / 300_000);
