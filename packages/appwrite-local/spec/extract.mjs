// Extracts the part of Appwrite's 1.8.x server OpenAPI spec that appwrite-local serves (paths under
// /tablesdb, /databases/…/collections/…/attributes|indexes, /functions, /teams, /users, /health) with every
// schema they reference, into open-api3-1.8.x-subset.json, so tests can validate responses without the full
// 48k-line spec. Run: node packages/appwrite-local/spec/extract.mjs <path to open-api3-1.8.x-server.json>
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = process.argv[2] ?? '../shared/appwrite-spec/open-api3-1.8.x-server.json';
const spec = JSON.parse(readFileSync(source, 'utf8'));
const keep = (p) =>
  p.startsWith('/tablesdb') ||
  /^\/databases\/\{databaseId\}\/collections\/\{collectionId\}\/(attributes|indexes)/.test(p) ||
  p.startsWith('/functions') ||
  p.startsWith('/teams') ||
  p.startsWith('/users') ||
  p.startsWith('/health');

const paths = {};
const refs = new Set();
const collect = (node) => {
  if (Array.isArray(node)) node.forEach(collect);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') refs.add(v.split('/').pop());
      else collect(v);
    }
  }
};
for (const [p, ops] of Object.entries(spec.paths)) {
  if (!keep(p)) continue;
  paths[p] = {};
  for (const [method, op] of Object.entries(ops)) {
    const scope = op['x-appwrite']?.scope;
    // One route may serve several SDK methods (createRow / createRows), each with its own response model.
    const methods = (op['x-appwrite']?.methods ?? []).map((m) => ({ name: m.name, responses: m.responses }));
    paths[p][method] = { operationId: op.operationId, scope, responses: op.responses, methods };
    collect(op.responses);
    collect(methods);
  }
}
const schemas = {};
const queue = [...refs];
while (queue.length) {
  const name = queue.shift();
  if (schemas[name]) continue;
  schemas[name] = spec.components.schemas[name];
  const before = new Set(refs);
  collect(schemas[name]);
  for (const r of refs) if (!before.has(r)) queue.push(r);
}
const out = { source: `Appwrite OpenAPI ${spec.info.version} (server), subset`, paths, schemas };
writeFileSync(
  join(dirname(fileURLToPath(import.meta.url)), 'open-api3-1.8.x-subset.json'),
  `${JSON.stringify(out)}\n`,
);
console.log(`${Object.keys(paths).length} paths, ${Object.keys(schemas).length} schemas`);
