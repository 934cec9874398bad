/**
 * A job worker in its own process for the crash scenario (test/resilience/worker-crash.ts): connects to the
 * server named by argv, drains with `lanes` lanes of `batch` claims, completes the first `completeFirst` jobs
 * it runs (printing `{"done": id}` once each is stored) and hangs in every later handler (printing
 * `{"hang": id}`), holding its leases until the parent SIGKILLs it.
 */

import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { createJobQueue, createWorker, productJobTypes } from 'resilience-core/jobs';

const [endpoint, projectId, key, lanes, batch, completeFirst] = process.argv.slice(2);
if (!endpoint || !projectId || !key) {
  throw new Error('usage: crash-worker-child <endpoint> <project> <key> <lanes> <batch> <completeFirst>');
}
const store = createAppwriteTableStore({ endpoint, projectId, key });
const queue = createJobQueue({ store, types: productJobTypes });
const workerId = `doomed-${process.pid}`;
const worker = createWorker({
  queue,
  workerId,
  lanes: Number(lanes),
  batchSize: Number(batch),
  onEvent: (e) => {
    if (e.kind === 'settled')
      process.stdout.write(`${JSON.stringify({ done: e.jobId, status: e.status })}\n`);
  },
});
let started = 0;
worker.registerHandler('send-notification', async (_payload, ctx) => {
  started++;
  if (started <= Number(completeFirst)) return { by: workerId };
  process.stdout.write(`${JSON.stringify({ hang: ctx.jobId })}\n`);
  await new Promise(() => {}); // never finishes: the parent kills this process mid-job
  return null;
});
process.stdout.write(`${JSON.stringify({ workerId })}\n`);
await worker.drain({ deadlineAt: Date.now() + 600_000 });
