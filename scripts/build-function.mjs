#!/usr/bin/env node
/**
 * The one esbuild config: bundles functions/<name>/src/main.ts into a single functions/<name>/dist/main.js
 * (CommonJS, platform node, target node22, minified, no node_modules at run time) for Appwrite's node-22
 * runtime with `entrypoint: dist/main.js` and `commands: ""`.
 *
 * - Size (budget {@link MAX_BUNDLE_BYTES}, measured by bench/bundles.bench.ts):
 *   - node-appwrite's `undici` import → scripts/shims/undici.mjs (Node 22's global fetch, FormData, File);
 *   - `json-bigint` (+ bignumber.js) → scripts/shims/json-bigint.mjs (native JSON, exact bigints on Node 22);
 *   - zod: its 40 locales → English only, and the opt-in `z.compile` / `z.fromJSONSchema` and JSON Schema
 *     generation (`z.toJSONSchema`, `schema.toJSONSchema()`, `~standard.jsonSchema`) → stubs that throw (zod's
 *     `z` namespace object and per-schema JSON Schema hooks defeat tree-shaking, so unused parts are cut here);
 *     and the chainable schema methods no bundled code calls (`.email()`, `.ipv6()`, `.partial()`, …: each keeps
 *     its schema class, check and regex alive from the prototype) are dropped ({@link dropUnusedSchemaMethods});
 *   - resilience-core declares `"sideEffects": false`, so services a function does not use are dropped;
 *   - the adapters call TablesDB/Teams endpoints through `Client.call` instead of the SDK's service classes;
 *   - `import { z } from 'zod'` in our code is compiled as `import * as z` (see {@link zodNamespaceImports}).
 * - Cold start (bench/bundles.bench.ts): no zod schema is built while the bundle loads — module-level schemas
 *   are declared with `lazySchema()` (resilience-core, schema/lazy-schema.ts; guarded by
 *   test/unit/lazy-schemas.test.ts), so loading is mostly V8 compiling the file, which is why size matters too.
 *   `node:crypto` → scripts/shims/node-crypto.mjs, loaded on first use; the undici shim is lazy too.
 *   `croner` → scripts/shims/croner.mjs: the real library is built into dist/croner.cjs beside the bundle
 *   (shipped with dist/) and loaded the first time a cron expression is evaluated.
 * - The open-runtimes server `require()`s the entrypoint and calls `mod.default` or the module itself
 *   (platform notes §A1): the footer makes `module.exports` the handler, with `.default` pointing at itself,
 *   so both work (and `import()` sees it as the default export).
 * - dist/package.json `{"type":"commonjs"}` keeps Node reading dist/main.js as CommonJS even though the
 *   function's own package.json says `"type": "module"`.
 * - `process.env.BUILD_VERSION` is replaced by `<package version>+<git short sha>` (reported by /health).
 *
 * Usage: `node scripts/build-function.mjs [functionDir ...]` (default: the current directory, as each
 * function's `npm run build` calls it), or `--all` for every folder in functions/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Largest bundle accepted, in bytes (the bench target). */
export const MAX_BUNDLE_BYTES = 250 * 1024;

/**
 * The short git sha in the version string. The root `build` script passes it as `BUILD_GIT_SHA`, which turbo
 * hashes (turbo.json `env`), so a new commit rebuilds the bundles whose reported version would change.
 */
function gitSha() {
  if (process.env.BUILD_GIT_SHA) return process.env.BUILD_GIT_SHA;
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return 'nogit';
  }
}

/**
 * Stand-in for zod's core/to-json-schema.js (JSON Schema generation: `z.toJSONSchema`, `schema.toJSONSchema()`,
 * `schema['~standard'].jsonSchema`): every export of the real file, each throwing when called. The
 * `create…Method` factories return the throwing function instead, because `~standard` builds its `jsonSchema`
 * methods eagerly and must stay readable (Standard Schema `validate` keeps working).
 */
function jsonSchemaStubs(realPath, no) {
  const source = readFileSync(realPath, 'utf8');
  const names = new Set();
  for (const m of source.matchAll(/^export (?:async )?(?:function\*?|const|let|class) (\w+)/gm))
    names.add(m[1]);
  for (const m of source.matchAll(/^export \{([^}]*)\}/gm))
    for (const part of m[1].split(','))
      if (part.trim())
        names.add(
          part
            .trim()
            .split(/\s+as\s+/)
            .pop(),
        );
  if (!names.has('createToJSONSchemaMethod') || !names.has('createStandardJSONSchemaMethod'))
    throw new Error(`zod-slim: unexpected exports in ${realPath}`);
  const fail = no('JSON Schema generation (toJSONSchema)');
  return [...names]
    .map((n) => `export const ${n} = ${n.startsWith('create') ? `() => ${fail}` : fail};`)
    .join('\n');
}

/**
 * Method names the bundled code can call on a zod schema: every `.name(` in our own sources (resilience-core and
 * the functions, tests included: broader is safer), plus the methods zod itself calls on a schema
 * (`this.x(`, `inst.x(`, `schema.x(`, `def.innerType.x(` in zod's classic and core files).
 */
function calledMethodNames() {
  const names = new Set();
  const scan = (dir, ext, pattern) => {
    if (!existsSync(dir)) return;
    for (const file of readdirSync(dir, { recursive: true })) {
      if (!String(file).endsWith(ext) || String(file).includes('node_modules')) continue;
      for (const m of readFileSync(path.join(dir, String(file)), 'utf8').matchAll(pattern)) names.add(m[1]);
    }
  };
  const ours = /\.\s*([A-Za-z_$][\w$]*)\s*\(/g;
  scan(path.join(root, 'packages', 'resilience-core', 'src'), '.ts', ours);
  for (const fn of readdirSync(path.join(root, 'functions')))
    scan(path.join(root, 'functions', fn, 'src'), '.ts', ours);
  const zodDir = path.dirname(fileURLToPath(import.meta.resolve('zod/v4/core')));
  const zods = /\b(?:this|inst|schema|def\.innerType)\.([A-Za-z_$][\w$]*)\(/g;
  for (const dir of [zodDir, path.join(zodDir, '..', 'classic')]) scan(dir, '.js', zods);
  return names;
}

let calledMethods;

/**
 * zod's classic schemas put their chainable methods (`.email()`, `.uuid()`, `.ipv6()`, `.partial()`, …) on each
 * schema class's prototype, so every method keeps its schema class, check and regex in the bundle whether called
 * or not. This drops the methods no bundled code calls ({@link calledMethodNames}); calling one would be a
 * TypeError ("….email is not a function"), which the scan rules out for our code.
 */
export function dropUnusedSchemaMethods(source) {
  calledMethods ??= calledMethodNames();
  const dropped = [];
  const contents = source.replace(
    /^ {4}([A-Za-z_$][\w$]*)\(([^)\n]*)\) \{\n[\s\S]*?^ {4}\},?\n/gm,
    (whole, name) => {
      if (calledMethods.has(name)) return whole;
      dropped.push(name);
      return '';
    },
  );
  return { contents, dropped };
}

/** Cuts the parts of zod a function never uses (see the header). */
export const zodSlim = {
  name: 'zod-slim',
  setup(b) {
    b.onResolve(
      { filter: /(^|\/)locales\/index\.js$|\/from-json-schema\.js$|\/compile\.js$|\/to-json-schema\.js$/ },
      (args) =>
        args.importer.includes(`${path.sep}zod${path.sep}`)
          ? { path: path.join(args.resolveDir, args.path), namespace: 'zod-slim' }
          : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-slim' }, (args) => {
      const no = (what) => `() => { throw new Error("${what} is not included in function bundles"); }`;
      let contents;
      if (args.path.endsWith('index.js')) contents = 'export { default as en } from "./en.js";';
      else if (args.path.endsWith('compile.js'))
        contents = [
          'export const INVALID = Symbol.for("zod.compile.invalid");',
          'export class ZodCompileAsyncError extends Error {}',
          'export class ZodCompileUnsupportedError extends Error {}',
          `export const compile = ${no('z.compile')};`,
          `export const withParser = ${no('z.withParser')};`,
          `export const compileFn = ${no('z.compileFn')};`,
        ].join('\n');
      else if (args.path.endsWith('to-json-schema.js')) contents = jsonSchemaStubs(args.path, no);
      else contents = `export const fromJSONSchema = ${no('z.fromJSONSchema')};`;
      return { contents, resolveDir: path.dirname(args.path), loader: 'js' };
    });
    // Each classic schema installs a `processJSONSchema` closure naming its JSON Schema processor, which keeps
    // every processor in the bundle; without to-json-schema nothing calls them.
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]classic[\\/]schemas\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const hook =
        /\n\s*inst\._zod\.processJSONSchema = \(ctx, json, params\) => processors\.\w+\(inst, ctx, json, params\);/g;
      const count = source.match(hook)?.length ?? 0;
      if (count < 30)
        throw new Error(`zod-slim: expected zod's processJSONSchema hooks in ${args.path}, found ${count}`);
      // `import { util } from "../core/index.js"` reaches util.js through a namespace RE-export, which makes
      // esbuild keep every helper of util.js (a namespace object); importing the module itself lets it drop
      // the unused ones.
      const utilImport = 'import { util } from "../core/index.js";';
      if (!source.includes(utilImport)) throw new Error(`zod-slim: expected ${utilImport} in ${args.path}`);
      const direct = source
        .replace(hook, '')
        .replace(utilImport, 'import * as util from "../core/util.js";')
        .replaceAll('core.util.', 'util.');
      const { contents, dropped } = dropUnusedSchemaMethods(direct);
      if (dropped.length < 20)
        throw new Error(
          `zod-slim: expected zod's schema method objects in ${args.path}, dropped ${dropped.length}`,
        );
      return { contents, resolveDir: path.dirname(args.path), loader: 'js' };
    });
  },
};

/**
 * Rewrites `import { z, … } from 'zod'` in our own TypeScript to `import * as z from 'zod'` (plus the other
 * names). esbuild resolves `z.object` through a namespace IMPORT statically, so only the zod code actually used
 * is bundled and no namespace object with hundreds of getters is built at load; the imported `z` binding is
 * zod's whole namespace object, which costs both size and cold-start time. Same semantics: `z` is that
 * namespace either way.
 */
export const zodNamespaceImports = {
  name: 'zod-namespace-imports',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      const rewritten = source.replace(/import\s*\{([^}]*)\}\s*from\s*(['"])zod\2;?/g, (whole, names) => {
        const specifiers = names
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean);
        if (!specifiers.includes('z')) return whole;
        const rest = specifiers.filter((n) => n !== 'z');
        return `import * as z from 'zod';${rest.length ? ` import { ${rest.join(', ')} } from 'zod';` : ''}`;
      });
      return { contents: nestedZodNamespaces(rewritten), loader: 'ts' };
    });
  },
};

/** zod's classic folder (the ESM build esbuild bundles), for {@link nestedZodNamespaces}. */
const zodClassicDir = path.join(path.dirname(fileURLToPath(import.meta.resolve('zod'))), 'v4', 'classic');

/**
 * `z.coerce.number(…)` and `z.iso.datetime(…)` go through zod's NESTED namespaces (`export * as coerce`), which
 * esbuild cannot resolve statically: it builds the namespace object and keeps every member (coerce.bigint,
 * coerce.date, iso.duration…). Importing the module itself (the same file zod's index re-exports) keeps only what
 * is called. Same semantics.
 */
function nestedZodNamespaces(source) {
  let out = source;
  for (const name of ['coerce', 'iso']) {
    if (!out.includes(`z.${name}.`)) continue;
    const local = `__zod_${name}`;
    out = out.replaceAll(`z.${name}.`, `${local}.`);
    out = `import * as ${local} from ${JSON.stringify(path.join(zodClassicDir, `${name}.js`))};\n${out}`;
  }
  return out;
}

/**
 * node-appwrite does not declare `"sideEffects": false`, so importing `Client` and `Query` from its index keeps
 * every module the index re-exports whose top level has a statement esbuild must assume effectful (e.g.
 * `Operator`'s static members). Its modules only define classes, enums and helpers, so they are marked free of
 * side effects here and unused ones are dropped.
 */
export const appwriteSideEffectFree = {
  name: 'node-appwrite-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.appwriteSideEffects) return undefined;
      const inAppwrite = args.importer.includes(`${path.sep}node-appwrite${path.sep}dist${path.sep}`);
      if (!inAppwrite && !/^node-appwrite(\/|$)/.test(args.path)) return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { appwriteSideEffects: true },
      });
      if (
        resolved.errors.length ||
        !resolved.path.includes(`${path.sep}node-appwrite${path.sep}dist${path.sep}`)
      )
        return undefined;
      return { path: resolved.path, sideEffects: false };
    });
  },
};

/**
 * Where node-appwrite defines the members {@link appwriteUnusedMembers} may cut: `Client`'s instance methods
 * (client.mjs, two-space indent; `Client` is the only class there with methods besides a constructor) and
 * `Query`'s statics (query.mjs, `_Query.name = …` up to the next docblock or static).
 */
const APPWRITE_MEMBERS = [
  {
    file: 'client.mjs',
    name: /^ {2}(?:async )?([A-Za-z_$][\w$]*)\(/gm,
    whole: /^ {2}(?:async )?([A-Za-z_$][\w$]*)\([^)\n]*\) \{\n[\s\S]*?^ {2}\}\n/gm,
  },
  {
    file: 'query.mjs',
    name: /^_Query\.([A-Za-z_$][\w$]*) = /gm,
    whole: /^_Query\.([A-Za-z_$][\w$]*) = [\s\S]*?(?=^\/\*\*\n|^_Query\.|^var Query = )/gm,
  },
];

const appwriteDist = () => path.dirname(fileURLToPath(import.meta.resolve('node-appwrite')));

/**
 * The `Client` methods and `Query` statics a bundle's code never calls, per file of {@link APPWRITE_MEMBERS}:
 * every member whose `.name(` does not occur in the bundle's minified output. Member names survive
 * minification, so this is exact for direct calls; a member calling another (`Query.createdBefore` calls
 * `lessThan`) keeps its callee, and a name that also names some other call is kept (errs on the safe side).
 */
export function uncalledAppwriteMembers(output) {
  const dist = appwriteDist();
  const uncalled = new Map();
  for (const { file, name } of APPWRITE_MEMBERS) {
    const names = new Set();
    for (const m of readFileSync(path.join(dist, file), 'utf8').matchAll(name))
      if (m[1] !== 'constructor' && !output.includes(`.${m[1]}(`)) names.add(m[1]);
    uncalled.set(file, names);
  }
  return uncalled;
}

/**
 * node-appwrite's `Client` and `Query` keep every member in the bundle (class methods, and statics assigned to
 * a class, are never tree-shaken): `Client.chunkedUpload` alone keeps ~5 KB (with `InputFile`) in bundles that
 * upload nothing. This cuts the members in `drop` (from {@link uncalledAppwriteMembers} of a first build, as
 * {@link bundle} does), so a call to a cut member cannot exist. Throws if a name is not found where expected
 * (the SDK's layout changed).
 */
export function appwriteUnusedMembers(drop) {
  return {
    name: 'node-appwrite-unused-members',
    setup(b) {
      for (const { file, whole } of APPWRITE_MEMBERS) {
        const names = drop.get(file);
        if (!names?.size) continue;
        b.onLoad(
          { filter: new RegExp(`[\\\\/]node-appwrite[\\\\/]dist[\\\\/]${file.replace('.', '\\.')}$`) },
          (args) => {
            const cut = new Set();
            const contents = readFileSync(args.path, 'utf8').replace(whole, (text, name) => {
              if (!names.has(name)) return text;
              cut.add(name);
              return '';
            });
            const missed = [...names].filter((n) => !cut.has(n));
            if (missed.length)
              throw new Error(`node-appwrite-unused-members: [${missed}] not found in ${args.path}`);
            return { contents, resolveDir: path.dirname(args.path), loader: 'js' };
          },
        );
      }
    },
  };
}

/** THE esbuild options of every function bundle (exported for benches and probes; see also {@link bundle}). */
export function esbuildOptions({ entry, outfile, version = '0.0.0-dev' }) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    sourcemap: false,
    logLevel: 'warning',
    absWorkingDir: root,
    alias: {
      undici: path.join(root, 'scripts', 'shims', 'undici.mjs'),
      'json-bigint': path.join(root, 'scripts', 'shims', 'json-bigint.mjs'),
      'node:crypto': path.join(root, 'scripts', 'shims', 'node-crypto.mjs'),
      crypto: path.join(root, 'scripts', 'shims', 'node-crypto.mjs'),
      croner: CRONER_SHIM,
    },
    plugins: [zodSlim, zodNamespaceImports, appwriteSideEffectFree],
    define: { 'process.env.BUILD_VERSION': JSON.stringify(version) },
    footer: {
      js: '{const h=module.exports&&module.exports.default;if(typeof h==="function"){h.default=h;module.exports=h;}}',
    },
  };
}

/**
 * Bundles any entry with THE function config ({@link esbuildOptions}: same shims, plugins, minification), e.g.
 * a bench's worker, so it measures the code that ships. The output is CommonJS: name it `*.cjs`, or put it in a
 * folder whose package.json says `"type": "commonjs"`. No size check (that is {@link buildFunction}'s).
 * Returns the output path and its size in bytes.
 */
export async function bundle({ entry, outfile, version }) {
  mkdirSync(path.dirname(outfile), { recursive: true });
  const options = esbuildOptions({ entry, outfile, version });
  let result = await build({ ...options, metafile: true });
  // Second build without the node-appwrite members the first one never calls (appwriteUnusedMembers).
  const uncalled = uncalledAppwriteMembers(readFileSync(outfile, 'utf8'));
  // One entry per file of APPWRITE_MEMBERS, always: what decides is whether any of them has a name to cut.
  if ([...uncalled.values()].some((names) => names.size > 0))
    result = await build({
      ...options,
      plugins: [appwriteUnusedMembers(uncalled), ...options.plugins],
      metafile: true,
    });
  // Files tree-shaken away still appear among the inputs: what counts is code of the stand-in in the output.
  const usesCroner = Object.values(result.metafile.outputs).some((output) =>
    Object.entries(output.inputs).some(
      ([input, { bytesInOutput }]) => path.resolve(root, input) === CRONER_SHIM && bytesInOutput > 0,
    ),
  );
  const chunk = path.join(path.dirname(outfile), CRONER_CHUNK);
  if (usesCroner) await buildCronerChunk(chunk);
  else rmSync(chunk, { force: true });
  return { outfile, bytes: statSync(outfile).size };
}

/** The croner stand-in (scripts/shims/croner.mjs) and the file it loads, beside the bundle. */
const CRONER_SHIM = path.join(root, 'scripts', 'shims', 'croner.mjs');
export const CRONER_CHUNK = 'croner.cjs';

/** Builds the real croner as one minified CommonJS file (`Cron` only), for the stand-in to load on first use. */
async function buildCronerChunk(outfile) {
  await build({
    stdin: { contents: "export { Cron } from 'croner';", resolveDir: root, loader: 'js' },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    absWorkingDir: root,
  });
}

/** Builds one function directory; returns the output path and size in bytes. */
export async function buildFunction(functionDir) {
  const dir = path.resolve(functionDir);
  const entry = path.join(dir, 'src', 'main.ts');
  if (!existsSync(entry)) throw new Error(`${entry} not found`);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const outDir = path.join(dir, 'dist');
  const outfile = path.join(outDir, 'main.js');
  const { bytes } = await bundle({ entry, outfile, version: `${pkg.version}+${gitSha()}` });
  writeFileSync(path.join(outDir, 'package.json'), '{"type":"commonjs"}\n');
  if (bytes > MAX_BUNDLE_BYTES) {
    throw new Error(
      `${path.relative(root, outfile)} is ${bytes} bytes, over the ${MAX_BUNDLE_BYTES}-byte budget`,
    );
  }
  return { outfile, bytes };
}

async function main() {
  const args = process.argv.slice(2);
  const dirs = args.includes('--all')
    ? readdirSync(path.join(root, 'functions'))
        .map((d) => path.join(root, 'functions', d))
        .filter((d) => existsSync(path.join(d, 'src', 'main.ts')))
    : args.length
      ? args
      : [process.cwd()];
  for (const dir of dirs) {
    const { outfile, bytes } = await buildFunction(dir);
    console.log(`built ${path.relative(root, outfile)} (${(bytes / 1024).toFixed(1)} KB)`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
