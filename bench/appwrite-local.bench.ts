import { startAppwriteLocal } from 'appwrite-local';
import { Client, Query, TablesDB } from 'node-appwrite';
import { type Bench, type Figure, percentile } from './lib.ts';

const SAMPLES = 400;
const WARMUP = 100;
const ROWS_FOR_LIST = 1_000;

/** Runs `fn` sequentially `n` times and returns each call's latency in ms. */
async function latencies(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return out;
}

/**
 * appwrite-local row operations over loopback through node-appwrite 27: p50/p99 of createRow, getRow, listRows
 * (an indexed-column filter plus order and limit 25 over a 1,000-row table) and bounded incrementRowColumn,
 * each beside the loopback floor measured in the same run (`GET /health/version` through the same client).
 * Target (issue #3): p50 ≤ 2 ms per row operation.
 */
const bench: Bench = {
  name: 'appwrite-local',
  async run(ctx) {
    const server = await startAppwriteLocal({
      port: 0,
      memory: true,
      projectId: 'bench',
      apiKey: 'bench-key',
    });
    try {
      const client = new Client().setEndpoint(server.endpoint).setProject('bench').setKey('bench-key');
      const t = new TablesDB(client);
      await t.create({ databaseId: 'db', name: 'db' });
      await t.createTable({
        databaseId: 'db',
        tableId: 'items',
        name: 'items',
        columns: [
          { key: 'name', type: 'string', size: 64, required: true },
          { key: 'group', type: 'string', size: 16, required: false },
          { key: 'n', type: 'integer', required: false, default: 0 },
        ],
        indexes: [{ key: 'by_group', type: 'key', columns: ['group'] }],
      });
      for (let i = 0; i < ROWS_FOR_LIST; i += 100) {
        await t.createRows({
          databaseId: 'db',
          tableId: 'items',
          rows: Array.from({ length: 100 }, (_, j) => ({
            $id: `seed-${i + j}`,
            name: `item ${i + j}`,
            group: `g${(i + j) % 20}`,
          })),
        });
      }
      const ping = () => client.call('get', new URL(`${server.endpoint}/health/version`));
      const create = (i: number) =>
        t.createRow({
          databaseId: 'db',
          tableId: 'items',
          rowId: `r-${i}`,
          data: { name: `row ${i}`, group: 'bench' },
        });
      const get = (i: number) =>
        t.getRow({ databaseId: 'db', tableId: 'items', rowId: `seed-${i % ROWS_FOR_LIST}` });
      const list = (i: number) =>
        t.listRows({
          databaseId: 'db',
          tableId: 'items',
          queries: [Query.equal('group', [`g${i % 20}`]), Query.orderDesc('$sequence'), Query.limit(25)],
        });
      const increment = () =>
        t.incrementRowColumn({
          databaseId: 'db',
          tableId: 'items',
          rowId: 'seed-0',
          column: 'n',
          value: 1,
          max: 1_000_000,
        });
      const ops: Record<string, (i: number) => Promise<unknown>> = { create, get, list, increment };
      // Warm every path (client and server JIT) before measuring anything, the floor included.
      for (const fn of Object.values(ops)) await latencies(WARMUP, (i) => fn(i + 1_000_000));
      await latencies(WARMUP, ping);
      const floor = await latencies(SAMPLES, ping);
      const figures: Figure[] = [];
      const rows: Record<string, string | number>[] = [];
      const floorP50 = percentile(floor, 50);
      for (const [name, fn] of Object.entries(ops)) {
        const samples = await latencies(SAMPLES, fn);
        const p50 = percentile(samples, 50);
        const p99 = percentile(samples, 99);
        rows.push({
          op: name,
          'p50 ms': p50.toFixed(3),
          'p99 ms': p99.toFixed(3),
          'floor p50 ms': floorP50.toFixed(3),
          'p50 / floor': (p50 / floorP50).toFixed(2),
        });
        figures.push(
          {
            name: `appwrite-local.${name}.p50`,
            value: p50,
            unit: 'ms',
            peer: 'loopback /health/version',
            peerValue: floorP50,
            target: '<= 2 ms',
            pass: p50 <= 2,
          },
          {
            name: `appwrite-local.${name}.p99`,
            value: p99,
            unit: 'ms',
            peer: 'loopback /health/version',
            peerValue: percentile(floor, 99),
          },
        );
      }
      ctx.table(
        `appwrite-local row operations through node-appwrite (${SAMPLES} sequential calls each)`,
        rows,
      );
      return figures;
    } finally {
      await server.stop();
    }
  },
};

export default bench;
