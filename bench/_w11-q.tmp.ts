const fast = new Function("o", "return %HasFastProperties(o)") as (o: unknown) => boolean;
import { compare } from './lib.ts';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
const m = new MemoryTableStore();
await m.create('u', 'r', { orgId: 'org', quota: 'api_calls_per_hour', window: 'x', used: 0, limit: 5, windowStart: 1, windowEnd: 2 });
const row = await m.get('u', 'r');
console.log(row, fast(row));
const t = (m as any).tables.get('u').get('r');
await m.increment('u', 'r', 'used', 1, { max: 1e9 });
const t2 = (m as any).tables.get('u').get('r');
console.log('stored fast?', fast(t), fast(t2));
const r = await compare({
  inc: () => m.increment('u', 'r', 'used', 1, { max: 1e9 }),
  get: () => m.get('u', 'r'),
  date: () => new Date(Date.now()).toISOString().replace('Z', '+00:00'),
  nop: async () => undefined,
}, 3, 150);
console.log(r);
