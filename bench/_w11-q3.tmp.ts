import { compare } from './lib.ts';
const row: Record<string, unknown> = { orgId: 'org', quotaType: 'api_calls_per_hour', windowKey: 'h.2026-11-28T21', windowStart: '2026-11-28T21:00:00.000+00:00', windowEnd: '2026-11-28T22:00:00.000+00:00', timeZone: 'UTC', used: 5, reserved: 0, $id: 'abc', $sequence: 3, $createdAt: 'x', $updatedAt: 'y', $permissions: [] };
function copyIn(value: any): any { if (typeof value !== 'object' || value === null) return value; if (Array.isArray(value)) return value.map(copyIn); const out: any = {}; for (const key in value) { if (!Object.hasOwn(value, key)) continue; const v = value[key]; out[key] = typeof v !== 'object' || v === null ? v : copyIn(v); } return out; }
function copyKeys(value: any): any { if (typeof value !== 'object' || value === null) return value; if (Array.isArray(value)) return value.map(copyKeys); const out: any = {}; const keys = Object.keys(value); for (let i = 0; i < keys.length; i++) { const key = keys[i]!; const v = value[key]; out[key] = typeof v !== 'object' || v === null ? v : copyKeys(v); } return out; }
let sink: unknown; let col = 'used';
const r = await compare({
  spreadComputed: () => { sink = { ...row, [col]: 6, $updatedAt: 'z' }; },
  spreadThenSet: () => { const o: any = { ...row }; o[col] = 6; o.$updatedAt = 'z'; sink = o; },
  copyIn: () => { sink = copyIn(row); },
  copyKeys: () => { sink = copyKeys(row); },
  spread: () => { sink = { ...row }; },
}, 3, 150);
console.log(r);
