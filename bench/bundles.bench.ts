/**
 * Function bundles: size on disk and cold load time (require() in a fresh `node` process, median of several,
 * interleaved) beside the peer — requiring node-appwrite + zod unbundled from node_modules, which is what an
 * unbundled function loads on a cold start. Targets (issue #2): each bundle ≤ 250 KB and loads in ≤ 0.15x the
 * peer's time. The target figure compares CPU time (user + system of the loading process), because on a shared
 * machine wall time mostly measures the scheduler; wall times are printed beside it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, Figure } from './lib.ts';
import { median } from './lib.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 9;
const MAX_BYTES = 250 * 1024;
const MAX_LOAD_RATIO = 0.15;

interface Load {
  /** Wall time of the require()s, ns. */
  ns: number;
  /** CPU time (user + system) of the require()s, ns: what the load costs, independent of other processes. */
  cpuNs: number;
  /** Bytes of every module file loaded. */
  bytes: number;
}

/** Requires `specifiers` in a fresh process and reports its cost (node's own startup excluded). */
function coldLoad(specifiers: string[]): Load {
  const script = `
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const s of ${JSON.stringify(specifiers)}) require(s);
    const ns = Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    const fs = require('node:fs');
    let bytes = 0;
    for (const f of Object.keys(require.cache)) { try { bytes += fs.statSync(f).size; } catch {} }
    console.log(JSON.stringify({ ns, cpuNs: (c.user + c.system) * 1000, bytes }));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root }).toString()) as Load;
}

const bench: Bench = {
  name: 'bundles',
  async run(ctx) {
    const names = readdirSync(path.join(root, 'functions')).filter((n) =>
      existsSync(path.join(root, 'functions', n, 'dist', 'main.js')),
    );
    if (!names.length) throw new Error('no bundles: run `npm run build` first');
    const peerSpecifiers = ['node-appwrite', 'zod'];
    const wall: Record<string, number[]> = {};
    const cpu: Record<string, number[]> = {};
    const record = (key: string, load: Load) => {
      wall[key] = [...(wall[key] ?? []), load.ns];
      cpu[key] = [...(cpu[key] ?? []), load.cpuNs];
    };
    let peerBytes = 0;
    // Interleaved, so a burst of load from other processes hits every candidate alike.
    for (let r = 0; r < RUNS; r++) {
      const peer = coldLoad(peerSpecifiers);
      record('peer', peer);
      peerBytes = peer.bytes;
      for (const name of names)
        record(name, coldLoad([path.join(root, 'functions', name, 'dist', 'main.js')]));
    }
    const ms = (values: number[] | undefined) => median(values ?? []) / 1e6;
    const peerCpu = ms(cpu.peer);
    const peerWall = ms(wall.peer);
    const figures: Figure[] = [];
    const rows: Record<string, string | number>[] = [
      {
        module: 'node-appwrite + zod (unbundled)',
        'size KB': (peerBytes / 1024).toFixed(1),
        'cpu ms': peerCpu.toFixed(2),
        'wall ms': peerWall.toFixed(2),
        'cpu ratio': 1,
        'wall ratio': 1,
      },
    ];
    for (const name of names) {
      const bytes = statSync(path.join(root, 'functions', name, 'dist', 'main.js')).size;
      const ratio = ms(cpu[name]) / peerCpu;
      rows.push({
        module: `${name} bundle`,
        'size KB': (bytes / 1024).toFixed(1),
        'cpu ms': ms(cpu[name]).toFixed(2),
        'wall ms': ms(wall[name]).toFixed(2),
        'cpu ratio': ratio.toFixed(3),
        'wall ratio': (ms(wall[name]) / peerWall).toFixed(3),
      });
      figures.push(
        {
          name: `${name}.size`,
          value: bytes,
          unit: 'bytes',
          peer: 'node-appwrite+zod unbundled',
          peerValue: peerBytes,
          target: '<= 250 KB',
          pass: bytes <= MAX_BYTES,
        },
        {
          name: `${name}.cold-load`,
          value: ratio,
          unit: 'ratio (cpu time)',
          peer: 'require node-appwrite+zod',
          peerValue: 1,
          target: `<= ${MAX_LOAD_RATIO} x peer`,
          pass: ratio <= MAX_LOAD_RATIO,
        },
      );
    }
    ctx.table(
      `Cold load: medians of ${RUNS} fresh processes each (require() only, node startup excluded). ` +
        'The figure uses CPU time (user+system), which other processes on a shared machine do not inflate; ' +
        'wall time is shown beside it.',
      rows,
    );
    return figures;
  },
};

export default bench;
