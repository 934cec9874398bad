/**
 * Function bundles: size on disk and cold load time beside the peer — requiring node-appwrite + zod unbundled
 * from node_modules, which is what an unbundled function loads on a cold start. Targets (issue 13): each
 * bundle ≤ 200 KB (204,800 bytes), and loads in ≤ 0.06x the peer's CPU time.
 *
 * Method (robust on a shared, noisy machine):
 * - Every sample is a fresh `node` process that times only its `require()` (node's own startup excluded).
 * - Rounds are interleaved: each round loads the peer and every bundle once, in an order rotated every round,
 *   after one discarded warm-up round (disk cache). A burst of load from other processes hits a round's
 *   candidates alike, and no candidate is always first or last.
 * - The ratio of a round is bundle / peer of THAT round; the figure is the median of the rounds' ratios, with
 *   the interquartile range printed beside it.
 * - The TARGET USES CPU TIME (user + system of the loading process): it counts the work of loading, which
 *   other processes cannot inflate the way they inflate wall time by taking the CPU away. Wall-time ratios are
 *   printed beside it for comparison.
 * - Bundles build their zod schemas on first use (`lazySchema`), so the load figure alone could hide work
 *   moved into the first execution. Each bundle process therefore also answers one request after loading (an
 *   unknown path → 404: env parsing, tracing, routing, logging, no I/O) and "load + 1st request" reports both
 *   together (informational, no target).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, Figure } from './lib.ts';
import { median, percentile } from './lib.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Interleaved rounds (plus one warm-up round); each round is one process per candidate. */
const ROUNDS = 15;
const MAX_BYTES = 200 * 1024;
const MAX_LOAD_RATIO = 0.06;

interface Sample {
  /** Wall time of the require()s, ns. */
  ns: number;
  /** CPU time (user + system) of the require()s, ns. */
  cpuNs: number;
  /** Bytes of every module file loaded. */
  bytes: number;
  /** Wall / CPU ns of load + the first request (bundles only). */
  firstNs?: number;
  firstCpuNs?: number;
  /** HTTP status of the first request (bundles only). */
  status?: number;
}

/**
 * Requires `specifiers` in a fresh process and reports its cost; with `request`, then calls the loaded module
 * (the open-runtimes entry point) once with a minimal open-runtimes context for `GET /__bench/unknown`.
 */
function coldLoad(specifiers: string[], request: boolean): Sample {
  const script = `
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let mod;
    for (const s of ${JSON.stringify(specifiers)}) mod = require(s);
    const ns = Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    const fs = require('node:fs');
    let bytes = 0;
    for (const f of Object.keys(require.cache)) { try { bytes += fs.statSync(f).size; } catch {} }
    const out = { ns, cpuNs: (c.user + c.system) * 1000, bytes };
    if (!${request}) console.log(JSON.stringify(out));
    else {
    const reply = (body, statusCode = 200, headers = {}) => ({ body, statusCode, headers });
    const context = {
      req: { bodyText: '', bodyRaw: '', body: '', bodyJson: undefined, bodyBinary: Buffer.alloc(0),
        headers: { 'x-appwrite-execution-id': 'bench' }, method: 'GET', path: '/__bench/unknown', query: {},
        queryString: '', scheme: 'http', host: 'localhost', port: 3000, url: 'http://localhost:3000/__bench/unknown' },
      res: { json: (b, s, h) => reply(JSON.stringify(b), s, h), text: reply, send: reply, binary: reply,
        empty: () => reply('', 204), redirect: (u, s = 301) => reply('', s, { location: u }) },
      log: () => {}, error: () => {},
    };
    const r0 = process.cpuUsage();
    const rt0 = process.hrtime.bigint();
    Promise.resolve((mod.default ?? mod)(context)).then((response) => {
      out.firstNs = ns + Number(process.hrtime.bigint() - rt0);
      const r = process.cpuUsage(r0);
      out.firstCpuNs = out.cpuNs + (r.user + r.system) * 1000;
      out.status = response && response.statusCode;
      console.log(JSON.stringify(out));
    });
    }`;
  const env = { ...process.env, APPWRITE_FUNCTION_DEPLOYMENT: 'bench' };
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, env }).toString()) as Sample;
}

const bench: Bench = {
  name: 'bundles',
  async run(ctx) {
    const names = readdirSync(path.join(root, 'functions')).filter((n) =>
      existsSync(path.join(root, 'functions', n, 'dist', 'main.js')),
    );
    if (!names.length) throw new Error('no bundles: run `npm run build` first');
    const bundlePath = (name: string) => path.join(root, 'functions', name, 'dist', 'main.js');
    const candidates = ['peer', ...names];
    const rounds: Record<string, Sample>[] = [];
    for (let r = -1; r < ROUNDS; r++) {
      const round: Record<string, Sample> = {};
      const offset = ((r % candidates.length) + candidates.length) % candidates.length;
      for (const key of [...candidates.slice(offset), ...candidates.slice(0, offset)]) {
        round[key] =
          key === 'peer' ? coldLoad(['node-appwrite', 'zod'], false) : coldLoad([bundlePath(key)], true);
      }
      if (r >= 0) rounds.push(round); // round -1 warms the disk cache and is discarded
    }

    const ms = (ns: number) => (ns / 1e6).toFixed(2);
    const ratios = (key: string, field: 'cpuNs' | 'ns' | 'firstCpuNs') =>
      rounds.map((round) => (round[key]![field] ?? Number.NaN) / round.peer!.cpuNs);
    const wallRatios = (key: string) => rounds.map((round) => round[key]!.ns / round.peer!.ns);
    const spread = (values: number[]) =>
      `${median(values).toFixed(3)} (${percentile(values, 25).toFixed(3)}–${percentile(values, 75).toFixed(3)})`;
    const med = (key: string, field: keyof Sample) => median(rounds.map((round) => round[key]![field] ?? 0));

    const peerBytes = rounds[0]!.peer!.bytes;
    const rows: Record<string, string | number>[] = [
      {
        module: 'node-appwrite + zod (unbundled)',
        'size KB': (peerBytes / 1024).toFixed(1),
        'shipped KB': '',
        'cpu ms': ms(med('peer', 'cpuNs')),
        'wall ms': ms(med('peer', 'ns')),
        'cpu ratio (IQR)': '1',
        'wall ratio (IQR)': '1',
        'load+1st req cpu ms': '',
      },
    ];
    const figures: Figure[] = [];
    for (const name of names) {
      const bytes = statSync(bundlePath(name)).size;
      // Everything dist/ ships: main.js plus, for the cron functions, croner.cjs (loaded on first cron use).
      const dist = path.dirname(bundlePath(name));
      const shipped = readdirSync(dist)
        .filter((f) => f.endsWith('.js') || f.endsWith('.cjs'))
        .reduce((sum, f) => sum + statSync(path.join(dist, f)).size, 0);
      const cpuRatios = ratios(name, 'cpuNs');
      const ratio = median(cpuRatios);
      const statuses = new Set(rounds.map((round) => round[name]!.status));
      if (statuses.size !== 1 || !statuses.has(404))
        throw new Error(`${name}: first request answered ${[...statuses].join(', ')}, expected 404`);
      rows.push({
        module: `${name} bundle`,
        'size KB': (bytes / 1024).toFixed(1),
        'shipped KB': (shipped / 1024).toFixed(1),
        'cpu ms': ms(med(name, 'cpuNs')),
        'wall ms': ms(med(name, 'ns')),
        'cpu ratio (IQR)': spread(cpuRatios),
        'wall ratio (IQR)': spread(wallRatios(name)),
        'load+1st req cpu ms': ms(med(name, 'firstCpuNs')),
      });
      figures.push(
        {
          name: `${name}.size-shipped`,
          value: shipped,
          unit: 'bytes (main.js + lazily loaded chunks)',
        },
        {
          name: `${name}.size`,
          value: bytes,
          unit: 'bytes',
          peer: 'node-appwrite+zod unbundled',
          peerValue: peerBytes,
          target: '<= 200 KB',
          pass: bytes <= MAX_BYTES,
        },
        {
          name: `${name}.cold-load`,
          value: ratio,
          unit: 'ratio (cpu time, median of rounds)',
          peer: 'require node-appwrite+zod',
          peerValue: 1,
          target: `<= ${MAX_LOAD_RATIO} x peer`,
          pass: ratio <= MAX_LOAD_RATIO,
        },
        {
          name: `${name}.cold-load-wall`,
          value: median(wallRatios(name)),
          unit: 'ratio (wall time, median of rounds)',
          peer: 'require node-appwrite+zod',
          peerValue: 1,
        },
        {
          name: `${name}.load-and-first-request`,
          value: median(ratios(name, 'firstCpuNs')),
          unit: 'ratio (cpu time, load + one 404 request)',
          peer: 'require node-appwrite+zod',
          peerValue: 1,
        },
      );
    }
    ctx.table(
      `Cold load: ${ROUNDS} interleaved rounds (order rotated each round, one warm-up round discarded), one ` +
        'fresh process per candidate per round, require() only (node startup excluded). Ratios are per round ' +
        '(bundle / peer of the same round), median and interquartile range. THE TARGET USES THE CPU RATIO ' +
        '(user+system time of the loading process, which other processes do not inflate); wall time is shown ' +
        'beside it. "load+1st req" adds one request (unknown path → 404) after loading, since bundles build ' +
        'schemas on first use.',
      rows,
    );
    return figures;
  },
};

export default bench;
