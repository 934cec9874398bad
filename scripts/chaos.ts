/**
 * `npm run chaos`: the resilience suite's long form (the short form runs in `npm test`:
 * test/resilience/*.local.test.ts). Against the whole system on the local server: fuzz every route of every
 * function (random input plus a full sweep of path-segment and cursor attacks), two tenants probing each other,
 * a real worker process SIGKILLed while holding leases, the server SIGKILLed mid-rollout (and with the CLI),
 * and a scan of every execution's logs for secrets. Prints one table of counts and every violation; exits 1
 * when any scenario found one.
 *
 * Options: --per-route N (fuzzed requests per route, default 320 ≈ 12,000 in all), --seed N, --rounds N
 * (tenant probe and secret rounds, default 5), --jobs N (crash scenario, default 400), --only a,b (scenario
 * names: fuzz, tenants, crash, rollout, secrets).
 */
import { parseArgs } from 'node:util';
import { runFuzz } from '../test/resilience/fuzz.ts';
import { runRolloutKill } from '../test/resilience/rollout-kill.ts';
import { runSecretScan } from '../test/resilience/secrets.ts';
import { leakedSecrets, startSystem } from '../test/resilience/system.ts';
import { runTenantProbes } from '../test/resilience/tenants.ts';
import { runWorkerCrash } from '../test/resilience/worker-crash.ts';

const { values } = parseArgs({
  options: {
    'per-route': { type: 'string', default: '320' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    rounds: { type: 'string', default: '5' },
    jobs: { type: 'string', default: '400' },
    only: { type: 'string' },
  },
});
const only = values.only ? new Set(values.only.split(',')) : null;
const wanted = (name: string) => !only || only.has(name);

interface Row {
  scenario: string;
  figure: string;
  value: string | number;
}
const rows: Row[] = [];
const violations: string[] = [];
const record = (scenario: string, figures: object, found: string[], ms: number) => {
  for (const [figure, value] of Object.entries(figures)) {
    rows.push({ scenario, figure, value: typeof value === 'object' ? JSON.stringify(value) : value });
  }
  rows.push({ scenario, figure: 'seconds', value: (ms / 1000).toFixed(1) });
  rows.push({ scenario, figure: 'violations', value: found.length });
  violations.push(...found.map((v) => `[${scenario}] ${v}`));
};
const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const t0 = Date.now();
  const out = await fn();
  return [out, Date.now() - t0];
};

const seed = Number(values.seed);
console.log(`chaos: seed ${seed} (replay with --seed ${seed})`);
const system = await startSystem();
try {
  if (wanted('fuzz')) {
    const [r, ms] = await timed(() =>
      runFuzz(system, { perRoute: Number(values['per-route']), seed, fullSweep: true, rowCheckEvery: 25 }),
    );
    record('fuzz', r.figures, r.violations, ms);
  }
  if (wanted('tenants')) {
    const [r, ms] = await timed(() => runTenantProbes(system, { rounds: Number(values.rounds) }));
    record('tenants', r.figures, r.violations, ms);
  }
  if (wanted('crash')) {
    const jobs = Number(values.jobs);
    const [r, ms] = await timed(() =>
      runWorkerCrash(system, { jobs, lanes: 8, batch: 25, completeFirst: 20, leaseMs: 3_000 }),
    );
    record('worker crash', r.figures, r.violations, ms);
  }
  if (wanted('secrets')) {
    const [r, ms] = await timed(() => runSecretScan(system, { rounds: Number(values.rounds) }));
    record('secrets', r.figures, r.violations, ms);
  }
  // Every in-process execution of the scenarios above, too.
  const leaked = leakedSecrets(system.logLines, system.secrets);
  record('all logs', { lines: system.logLines.length, leaked: leaked.length }, leaked.slice(0, 5), 0);
} finally {
  await system.stop();
}
if (wanted('rollout')) {
  const [r, ms] = await timed(() => runRolloutKill({ outageMs: 3_000 }));
  record('rollout kill', r.figures, r.violations, ms);
}

console.table(rows);
if (violations.length) {
  console.log(`\n${violations.length} violation(s):`);
  for (const v of violations.slice(0, 100)) console.log(`- ${v}`);
  process.exitCode = 1;
} else {
  console.log('\nno violations');
}
