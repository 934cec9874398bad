/**
 * Job queue bench, against the local Appwrite server running in a CHILD PROCESS (the `appwrite-local` bin with
 * `--latency 20`), so the server's work runs on its own event loop and core, as a real Appwrite's would:
 * - round trips per job (HTTP requests counted at the clients by the store's `onRequest`): enqueue, and the
 *   drain's claims + completions (batched per lane), beside an unbatched worker (batch size 1) in the same run;
 * - drain throughput against the bound `lanes / (drain round trips per job × RTT)`: a worker whose lanes each
 *   keep one request in flight cannot beat it, so the ratio says how much time the lanes spend between
 *   requests. The pass/fail figure uses the IDLE RTT: the median duration of a trivial get (a missing row)
 *   measured by the draining client right before its drain, i.e. the 20 ms injected plus loopback and the
 *   client's own per-request work. The RTT of the drain's own requests (which also includes the server's work
 *   under load) is printed as information, with the ratio it gives.
 *
 * The pass/fail worker is the code that SHIPS: bench/fixtures/jobs-drain-entry.ts bundled by
 * scripts/build-function.mjs `bundle()` (the functions' esbuild config: node-appwrite on Node's global fetch
 * and native JSON instead of undici and json-bigint) and run by plain `node` in its own child process. The same
 * drain run unbundled in this process (tsx, the SDK's own undici and json-bigint) is reported beside it as
 * information; rounds alternate the two, so load drift hits both. (Measured: the two differ by less than the
 * round-to-round noise, since Node's global fetch is itself undici; most of the client's CPU per request is the
 * fetch machinery either way.) Each drain gets a fresh server process holding only its own jobs.
 * `JOBS_BENCH_CPU_PROF=<dir> npx tsx bench/run.ts jobs` writes a CPU profile (.cpuprofile, for Chrome DevTools or
 * speedscope) of the server process and of each bundled drain into <dir>.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { createJobQueue, productJobTypes } from 'resilience-core/jobs';
// @ts-expect-error — plain .mjs build script without type declarations
import { bundle as bundleUntyped } from '../scripts/build-function.mjs';
import { mapLimit, writeJobsConfig } from '../test/jobs-local-helpers.ts';
import { measureBurst } from './fixtures/jobs-burst.ts';
import { type DrainMeasurement, type DrainSpec, measureDrain, RESULT_PREFIX } from './fixtures/jobs-drain.ts';
import type { Bench, Figure } from './lib.ts';

const LATENCY_MS = 20;
const BIN = resolve(import.meta.dirname, '../packages/appwrite-local/bin/appwrite-local.mjs');
const PROJECT = 'test';
const KEY = 'bench-key';

/** scripts/build-function.mjs `bundle()`: the functions' esbuild config applied to any entry. */
const bundle = bundleUntyped as (o: {
  entry: string;
  outfile: string;
}) => Promise<{ outfile: string; bytes: number }>;

const ENTRY = resolve(import.meta.dirname, 'fixtures/jobs-drain-entry.ts');

interface Scenario {
  jobs: number;
  lanes: number;
  batchSize: number;
  /** The bundled worker in a `node` child process (what ships), or the TypeScript sources in this process. */
  worker: 'bundled' | 'unbundled';
}

interface Measured {
  enqueueRtPerJob: number;
  drainRtPerJob: number;
  /** Median duration of a trivial get before the run, ms (latency + loopback + client work). */
  idleRttMs: number;
  /** Mean duration of the drain's own requests, ms. */
  drainRttMs: number;
  jobsPerSecond: number;
  /** lanes / (drain rt per job × idle RTT), jobs/s. */
  bound: number;
  /** The same bound with the drain's measured RTT. */
  drainBound: number;
  completed: number;
  /** The drain's requests per store method: count and mean duration, ms. */
  byMethod: DrainMeasurement['byMethod'];
}

interface ServerProcess {
  endpoint: string;
  stop(): Promise<void>;
}

/** `--cpu-prof` flags for a child process when `JOBS_BENCH_CPU_PROF=<dir>` is set, else none. */
function cpuProfArgs(): string[] {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a bench switch, not an input of any turbo task
  const dir = process.env.JOBS_BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];
}

/** Starts the `appwrite-local` bin in a child process and resolves once it prints its ready line. */
async function startServerProcess(latencyMs: number, config: string): Promise<ServerProcess> {
  const args = ['--memory', '--port', '0', '--config', config, '--project', PROJECT, '--key', KEY];
  const child: ChildProcess = spawn(
    process.execPath,
    [...cpuProfArgs(), BIN, ...args, '--latency', String(latencyMs)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const endpoint = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`appwrite-local not ready in 30 s: ${out} ${err}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /appwrite-local listening on (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`appwrite-local exited ${code} before ready: ${err}`));
    });
  });
  return {
    endpoint,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Runs one drain with the bundled worker (`node <bundle> <spec>`) and parses its result line.
 */
async function drainInChild(bundlePath: string, spec: DrainSpec): Promise<DrainMeasurement> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...cpuProfArgs(), bundlePath, JSON.stringify(spec)],
    {
      timeout: 300_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (!line) throw new Error(`bundled drain printed no result: ${stdout}`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as DrainMeasurement;
}

/** Enqueues `s.jobs` jobs from this process, then drains them with one worker (bundled or not). */
async function run(server: ServerProcess, bundlePath: string, s: Scenario): Promise<Measured> {
  const requests = { n: 0 };
  const producer = createAppwriteTableStore({
    endpoint: server.endpoint,
    projectId: PROJECT,
    key: KEY,
    onRequest: () => {
      requests.n++;
    },
  });
  const queue = createJobQueue({ store: producer, types: productJobTypes });
  await mapLimit(
    Array.from({ length: s.jobs }, (_, i) => i),
    16,
    (i) =>
      queue.enqueue({
        orgId: 'bench',
        type: 'send-notification',
        payload: { channel: 'slack', text: `n${i}` },
      }),
  );
  const spec: DrainSpec = {
    endpoint: server.endpoint,
    projectId: PROJECT,
    key: KEY,
    lanes: s.lanes,
    batchSize: s.batchSize,
  };
  const m = s.worker === 'bundled' ? await drainInChild(bundlePath, spec) : await measureDrain(spec);
  const drainRtPerJob = m.requests / s.jobs;
  return {
    idleRttMs: m.idleRttMs,
    enqueueRtPerJob: requests.n / s.jobs,
    drainRtPerJob,
    drainRttMs: m.drainRttMs,
    jobsPerSecond: m.completed / (m.drainMs / 1000),
    bound: s.lanes / ((drainRtPerJob * m.idleRttMs) / 1000),
    drainBound: s.lanes / ((drainRtPerJob * m.drainRttMs) / 1000),
    completed: m.completed,
    byMethod: m.byMethod,
  };
}

const ROUNDS = 3;
/** The shipped worker's defaults (job-worker: JOB_WORKER_LANES 2, JOB_WORKER_BATCH 50). */
const BATCHED = { jobs: 600, lanes: 2, batchSize: 50 } as const;

const ofBoundOf = (m: Measured) => m.jobsPerSecond / m.bound;

/** The round with the median ratio (odd round counts). */
function medianRound(rounds: Measured[]): Measured {
  return [...rounds].sort((a, b) => ofBoundOf(a) - ofBoundOf(b))[Math.floor(rounds.length / 2)]!;
}

const bench: Bench = {
  name: 'jobs',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'jobs-bench-'));
    const { outfile: bundlePath, bytes } = await bundle({
      entry: ENTRY,
      outfile: join(dir, 'jobs-drain.cjs'),
    });
    ctx.log(`bundled drain worker: ${(bytes / 1024).toFixed(1)} KB (scripts/build-function.mjs config)`);
    const config = writeJobsConfig();
    // A fresh server process per drain: every drain starts from the same table (only its own jobs), so rounds
    // are comparable. (appwrite-local filters rows with a scan, so a table full of earlier rounds' COMPLETED jobs
    // would make each later round's claim queries slower; a real Appwrite uses indexes.)
    const fresh = async (s: Scenario): Promise<Measured> => {
      const server = await startServerProcess(LATENCY_MS, config);
      try {
        return await run(server, bundlePath, s);
      } finally {
        await server.stop();
      }
    };
    const bundled: Measured[] = [];
    const unbundled: Measured[] = [];
    let unbatched: Measured;
    try {
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate which worker goes first, so neither always drains right after the other.
        const order = r % 2 === 0 ? (['bundled', 'unbundled'] as const) : (['unbundled', 'bundled'] as const);
        for (const worker of order) {
          const m = await fresh({ ...BATCHED, worker });
          (worker === 'bundled' ? bundled : unbundled).push(m);
        }
      }
      unbatched = await fresh({ jobs: 60, lanes: 4, batchSize: 1, worker: 'bundled' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(dirname(config), { recursive: true, force: true });
    }
    const perRound = (ms: Measured[]) => ms.map((m) => `${(100 * ofBoundOf(m)).toFixed(0)} %`).join(', ');
    ctx.log(`batched drain, of bound (idle RTT) per round: bundled ${perRound(bundled)}`);
    ctx.log(`                                            unbundled ${perRound(unbundled)}`);
    const batched = medianRound(bundled);
    const batchedUnbundled = medianRound(unbundled);
    const methods = (m: Measured) =>
      Object.entries(m.byMethod)
        .map(([k, v]) => `${k} ×${v.count} ${v.meanMs.toFixed(1)} ms`)
        .join(', ');
    ctx.log(`bundled median round, drain requests (count, mean duration): ${methods(batched)}`);
    const rows = [
      { worker: `bundled, batched (2 lanes × 50), median of ${ROUNDS}`, ...batched },
      { worker: `unbundled (tsx), batched (2 lanes × 50), median of ${ROUNDS}`, ...batchedUnbundled },
      { worker: 'bundled, unbatched (4 lanes × 1)', ...unbatched },
    ].map((r) => ({
      worker: r.worker,
      'enqueue rt/job': r.enqueueRtPerJob.toFixed(2),
      'drain rt/job': r.drainRtPerJob.toFixed(2),
      'total rt/job': (r.enqueueRtPerJob + r.drainRtPerJob).toFixed(2),
      'idle RTT ms': r.idleRttMs.toFixed(1),
      'jobs/s': r.jobsPerSecond.toFixed(1),
      'bound jobs/s (idle RTT)': r.bound.toFixed(1),
      'of bound': `${((100 * r.jobsPerSecond) / r.bound).toFixed(0)} %`,
      'drain RTT ms': r.drainRttMs.toFixed(1),
      'of drain-RTT bound': `${((100 * r.jobsPerSecond) / r.drainBound).toFixed(0)} %`,
      completed: r.completed,
    }));
    ctx.table(
      `Job queue vs appwrite-local in a child process with ${LATENCY_MS} ms latency per request`,
      rows,
    );
    const totalRt = batched.enqueueRtPerJob + batched.drainRtPerJob;
    const ofBound = ofBoundOf(batched);
    const figures: Figure[] = [
      {
        name: 'jobs.round-trips-per-job',
        value: totalRt,
        unit: 'round-trips/job',
        peer: 'unbatched worker (batch 1)',
        peerValue: unbatched.enqueueRtPerJob + unbatched.drainRtPerJob,
        target: '<= 1.3',
        pass: totalRt <= 1.3,
      },
      {
        name: 'jobs.drain-throughput-of-bound',
        value: ofBound,
        unit: 'ratio',
        peer: 'bound lanes/(rt per job × idle RTT)',
        peerValue: 1,
        target: '>= 0.8',
        pass: ofBound >= 0.8,
      },
      {
        name: 'jobs.drain-throughput-of-bound.unbundled',
        value: ofBoundOf(batchedUnbundled),
        unit: 'ratio',
        peer: 'bound lanes/(rt per job × idle RTT), worker run from TypeScript sources under tsx',
        peerValue: 1,
      },
      {
        name: 'jobs.drain-throughput-of-drain-rtt-bound',
        value: batched.jobsPerSecond / batched.drainBound,
        unit: 'ratio',
        peer: "bound using the mean RTT of the drain's own requests",
        peerValue: 1,
      },
      {
        name: 'jobs.drain-throughput',
        value: batched.jobsPerSecond,
        unit: 'jobs/s',
        peer: 'unbundled worker (tsx), same batching',
        peerValue: batchedUnbundled.jobsPerSecond,
      },
    ];
    const burst = await measureBurst(ctx);
    figures.push(
      {
        name: 'jobs.burst.requests-per-job',
        value: burst.requests / burst.jobs,
        unit: 'requests/job',
        peer: 'one request per enqueue (the floor)',
        peerValue: 1,
        target: '<= 1.6',
        pass: burst.requests / burst.jobs <= 1.6,
      },
      {
        name: 'jobs.burst.executions',
        value: burst.executions,
        unit: 'executions',
        peer: 'executions that drained (claimed at least one job)',
        peerValue: burst.working,
      },
    );
    return figures;
  },
};

export default bench;
