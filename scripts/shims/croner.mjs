/**
 * Bundle-time stand-in for `croner` (33 KB minified, a third of a cron function's bundle): the real library is
 * built by scripts/build-function.mjs into `croner.cjs` BESIDE the bundle (dist/croner.cjs, shipped with
 * dist/) and loaded the first time a cron expression is evaluated — a job-worker drain that finds schedules,
 * quota-reset's retention when it prunes a scheduled job — instead of being compiled on every cold start.
 * croner is self-contained (no state shared with our code), so loading it apart changes nothing else. Export
 * a name here when code imports a new one (the build fails with "No matching export" until then).
 */
let real;
function croner() {
  // `module.require` and `__dirname` are the CommonJS bundle's own: the chunk sits beside dist/main.js.
  real ??= module.require(`${__dirname}/croner.cjs`);
  return real;
}

/** croner's `Cron`: constructing one loads the library and returns a real `Cron`. */
export class Cron {
  constructor(...args) {
    // biome-ignore lint/correctness/noConstructorReturn: the real instance stands in for the stand-in
    return new (croner().Cron)(...args);
  }
}
