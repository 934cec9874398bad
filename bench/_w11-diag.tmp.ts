import { createJobQueue, createWorker, productJobTypes } from 'resilience-core';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { spawn } from 'node:child_process';
import { mapLimit, writeJobsConfig } from '../test/jobs-local-helpers.ts';
const child = spawn(process.execPath, [...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/w11/server'] : []), 'packages/appwrite-local/bin/appwrite-local.mjs', '--memory', '--config', writeJobsConfig(), '--project', 'test', '--key', 'k', '--latency', process.argv[2] ?? '20'], { stdio: ['ignore', 'pipe', 'inherit'] });
const endpoint = await new Promise<string>((res) => { let out = ''; child.stdout!.on('data', (d) => { out += d; const m = /listening on (\S+)\n/.exec(out); if (m) res(m[1]!); }); });
const by: Record<string, number[]> = {}; const spans: [number, number][] = [];
const mk = (log: boolean) => createAppwriteTableStore({ endpoint, projectId: 'test', key: 'k', onRequest: (i) => { if (log) { (by[i.method] ??= []).push(i.durationMs); spans.push([performance.now() - i.durationMs, performance.now()]); } } });
const q = createJobQueue({ store: mk(false), types: productJobTypes });
await mapLimit(Array.from({ length: 400 }, (_, i) => i), 16, (i) => q.enqueue({ orgId: 'b', type: 'send-notification', payload: { channel: 'slack', text: `n${i}` } }));
const w = createWorker({ queue: createJobQueue({ store: mk(true), types: productJobTypes }), lanes: 4, batchSize: 10, spread: Number(process.argv[3] ?? 4) });
w.registerHandler('send-notification', () => null);
const cpu0 = process.cpuUsage(); const { readFileSync } = await import('node:fs'); const childCpu = () => { const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; }; const c0 = childCpu();

const t0 = performance.now();
const r = await w.drain({ deadlineAt: Date.now() + 300_000 });
const sec = (performance.now() - t0) / 1000;
 const cu = process.cpuUsage(cpu0); console.log(r.completed / sec, 'jobs/s', 'wall ms', sec*1000, 'client cpu ms', (cu.user + cu.system) / 1000, 'server cpu ms', childCpu() - c0);
for (const [k, v] of Object.entries(by)) { v.sort((a, b) => a - b); console.log(k, v.length, 'mean', (v.reduce((a, b) => a + b, 0) / v.length).toFixed(1), 'p50', v[v.length >> 1]!.toFixed(1), 'max', v[v.length - 1]!.toFixed(1)); }
child.kill('SIGTERM');

const t1 = t0 + sec * 1000; const N = 20; const out: string[] = [];
for (let k = 0; k < N; k++) { const a = t0 + (k * (t1 - t0)) / N, b = t0 + ((k + 1) * (t1 - t0)) / N; let busy = 0; for (const [s, e] of spans) busy += Math.max(0, Math.min(e, b) - Math.max(s, a)); out.push((busy / (b - a)).toFixed(2)); }
console.log('in-flight per 5% slice:', out.join(' '));
