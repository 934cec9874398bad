/**
 * Job queue bench, against the local Appwrite server with 20 ms of latency injected per request:
 * - round trips per job (HTTP requests counted by the server): enqueue, and the drain's claims + completions
 *   (claims and completions are batched per lane), beside an unbatched worker (batch size 1) in the same run;
 * - drain throughput against the bound `lanes / (drain round trips per job × RTT)`: a worker whose lanes each
 *   keep one request in flight cannot beat it, so the ratio says how well the drain pipelines. RTT is the mean
 *   duration of the drain's own requests (20 ms injected + the server's work on them, which grows when the
 *   machine is loaded); the idle RTT of a trivial get is printed beside it.
 */
import type { AppwriteLocal } from 'appwrite-local';
import { createJobQueue, createWorker, productJobTypes } from 'resilience-core';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { mapLimit, startJobsServer, storeFor } from '../test/jobs-local-helpers.ts';
import type { Bench, Figure } from './lib.ts';

const LATENCY_MS = 20;

interface Scenario {
  jobs: number;
  lanes: number;
  batchSize: number;
}

interface Measured {
  enqueueRtPerJob: number;
  drainRtPerJob: number;
  /** Mean duration of a single get during the run's warm-up, ms (latency + a trivial request). */
  idleRttMs: number;
  /** Mean duration of the drain's own requests, ms: the RTT the bound uses. */
  rttMs: number;
  jobsPerSecond: number;
  bound: number;
  /** The same bound with the idle RTT. */
  idleBound: number;
  completed: number;
}

async function measureRtt(server: AppwriteLocal): Promise<number> {
  const store = storeFor(server);
  await store.get('job-queue', 'warm-up');
  const n = 20;
  const start = performance.now();
  for (let i = 0; i < n; i++) await store.get('job-queue', `missing-${i}`);
  return (performance.now() - start) / n;
}

async function run(s: Scenario): Promise<Measured> {
  const server = await startJobsServer(LATENCY_MS);
  try {
    const idleRttMs = await measureRtt(server);
    const producer = createJobQueue({ store: storeFor(server), types: productJobTypes });
    const before = server.stats.requests;
    await mapLimit(
      Array.from({ length: s.jobs }, (_, i) => i),
      16,
      (i) =>
        producer.enqueue({
          orgId: 'bench',
          type: 'send-notification',
          payload: { channel: 'slack', text: `n${i}` },
        }),
    );
    const enqueued = server.stats.requests;
    const durations: number[] = [];
    const workerStore = createAppwriteTableStore({
      endpoint: server.endpoint,
      projectId: server.projectId,
      key: server.apiKey,
      onRequest: (info) => durations.push(info.durationMs),
    });
    const worker = createWorker({
      queue: createJobQueue({ store: workerStore, types: productJobTypes }),
      lanes: s.lanes,
      batchSize: s.batchSize,
    });
    worker.registerHandler('send-notification', () => null);
    const start = performance.now();
    const report = await worker.drain({ deadlineAt: Date.now() + 300_000 });
    const seconds = (performance.now() - start) / 1000;
    const drainRequests = server.stats.requests - enqueued;
    const drainRtPerJob = drainRequests / s.jobs;
    const rttMs = durations.reduce((a, b) => a + b, 0) / Math.max(1, durations.length);
    return {
      idleRttMs,
      enqueueRtPerJob: (enqueued - before) / s.jobs,
      drainRtPerJob,
      rttMs,
      jobsPerSecond: report.completed / seconds,
      bound: s.lanes / ((drainRtPerJob * rttMs) / 1000),
      idleBound: s.lanes / ((drainRtPerJob * idleRttMs) / 1000),
      completed: report.completed,
    };
  } finally {
    await server.stop();
  }
}

const bench: Bench = {
  name: 'jobs',
  async run(ctx) {
    const batched = await run({ jobs: 400, lanes: 4, batchSize: 10 });
    const unbatched = await run({ jobs: 60, lanes: 4, batchSize: 1 });
    const rows = [
      { worker: 'batched (4 lanes × 10)', ...batched },
      { worker: 'unbatched (4 lanes × 1)', ...unbatched },
    ].map((r) => ({
      worker: r.worker,
      'enqueue rt/job': r.enqueueRtPerJob.toFixed(2),
      'drain rt/job': r.drainRtPerJob.toFixed(2),
      'total rt/job': (r.enqueueRtPerJob + r.drainRtPerJob).toFixed(2),
      'idle RTT ms': r.idleRttMs.toFixed(1),
      'drain RTT ms': r.rttMs.toFixed(1),
      'jobs/s': r.jobsPerSecond.toFixed(1),
      'bound jobs/s': r.bound.toFixed(1),
      'of bound': `${((100 * r.jobsPerSecond) / r.bound).toFixed(0)} %`,
      completed: r.completed,
    }));
    ctx.table(`Job queue vs local Appwrite with ${LATENCY_MS} ms latency per request`, rows);
    const totalRt = batched.enqueueRtPerJob + batched.drainRtPerJob;
    const ofBound = batched.jobsPerSecond / batched.bound;
    const figures: Figure[] = [
      {
        name: 'jobs.round-trips-per-job',
        value: totalRt,
        unit: 'round-trips/job',
        peer: 'unbatched worker (batch 1)',
        peerValue: unbatched.enqueueRtPerJob + unbatched.drainRtPerJob,
        target: '<= 3',
        pass: totalRt <= 3,
      },
      {
        name: 'jobs.drain-throughput-of-bound',
        value: ofBound,
        unit: 'ratio',
        peer: 'bound lanes/(rt per job × RTT)',
        peerValue: 1,
        target: '>= 0.8',
        pass: ofBound >= 0.8,
      },
      {
        name: 'jobs.drain-throughput-of-idle-rtt-bound',
        value: batched.jobsPerSecond / batched.idleBound,
        unit: 'ratio',
        peer: 'bound using the idle RTT of a trivial get',
        peerValue: 1,
      },
      {
        name: 'jobs.drain-throughput',
        value: batched.jobsPerSecond,
        unit: 'jobs/s',
        peer: 'unbatched worker (batch 1)',
        peerValue: unbatched.jobsPerSecond,
      },
    ];
    return figures;
  },
};

export default bench;
