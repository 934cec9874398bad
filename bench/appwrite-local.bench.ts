import { startAppwriteLocal } from 'appwrite-local';
import { Client, Query, TablesDB } from 'node-appwrite';
import { type Bench, type Figure, percentile } from './lib.ts';

const SAMPLES = 400;
const WARMUP = 100;
const ROWS_FOR_LIST = 1_000;
/** Table sizes of the indexed-list scaling figure: its p50 should not grow with the table. */
const SCALING_SIZES = [1_000, 20_000] as const;
const SCALING_SAMPLES = 200;
/** Rows matching the scaling figure's filter, in every table size. */
const QUEUED_ROWS = 50;

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
 * Creates table `tableId` with `size` job-like rows, {@link QUEUED_ROWS} of them `QUEUED` whatever the size, and
 * a `(status, runAt)` key index, and returns a listRows call filtering on the indexed status, ordered by runAt,
 * limit 25 (the job queue's claim shape: a few due jobs among many completed ones).
 */
async function indexedListOn(t: TablesDB, tableId: string, size: number): Promise<() => Promise<unknown>> {
  await t.createTable({
    databaseId: 'db',
    tableId,
    name: tableId,
    columns: [
      { key: 'status', type: 'string', size: 16, required: true },
      { key: 'runAt', type: 'integer', required: true },
    ],
    indexes: [{ key: 'due', type: 'key', columns: ['status', 'runAt'] }],
  });
  for (let i = 0; i < size; i += 1_000) {
    await t.createRows({
      databaseId: 'db',
      tableId,
      rows: Array.from({ length: 1_000 }, (_, j) => ({
        status: (i + j) % (size / QUEUED_ROWS) === 0 ? 'QUEUED' : 'COMPLETED',
        runAt: (i + j) % 997,
      })),
    });
  }
  return () =>
    t.listRows({
      databaseId: 'db',
      tableId,
      queries: [Query.equal('status', ['QUEUED']), Query.orderAsc('runAt'), Query.limit(25)],
    });
}

/**
 * appwrite-local row operations over loopback through node-appwrite 27: p50/p99 of createRow, getRow, listRows
 * (an indexed-column filter plus order and limit 25 over a 1,000-row table) and bounded incrementRowColumn,
 * each beside the loopback floor measured in the same run (`GET /health/version` through the same client).
 * Target (issue #3): p50 ≤ 2 ms per row operation. Also: the p50 of an indexed filter + order listRows on a
 * 20,000-row table against the same on a 1,000-row table (declared indexes are SQLite expression indexes, so
 * the ratio stays near 1; a table scan made it ~7x).
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
      const scaling: Record<string, string | number>[] = [];
      const scalingP50: number[] = [];
      for (const size of SCALING_SIZES) {
        const list = await indexedListOn(t, `jobs_${size}`, size);
        await latencies(WARMUP, list);
        const p50 = percentile(await latencies(SCALING_SAMPLES, list), 50);
        scalingP50.push(p50);
        scaling.push({ rows: size, 'p50 ms': p50.toFixed(3), 'floor p50 ms': floorP50.toFixed(3) });
      }
      const [smallP50 = 0, largeP50 = 0] = scalingP50;
      figures.push({
        name: 'appwrite-local.list-indexed.20k.p50',
        value: largeP50,
        unit: 'ms',
        peer: 'same query on 1,000 rows',
        peerValue: smallP50,
        target: '<= 1.5 x peer',
        pass: largeP50 <= 1.5 * smallP50,
      });
      ctx.table(
        `listRows, equal on an indexed column (${QUEUED_ROWS} matches) + order + limit 25 (${SCALING_SAMPLES} sequential calls each)`,
        scaling,
      );
      return figures;
    } finally {
      await server.stop();
    }
  },
};

export default bench;
