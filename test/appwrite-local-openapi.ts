/**
 * Validates appwrite-local responses against Appwrite's 1.8.x server OpenAPI spec (the subset in
 * packages/appwrite-local/spec): the status must be one the operation documents, and the JSON body must match
 * the response schema ($ref resolved; required properties, types, array items, anyOf/oneOf). Known 1.9 deltas
 * are allowed: `$sequence` is a digit string in format 1.9.x (an integer in the 1.8 spec).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TraceEntry } from 'appwrite-local';

type Schema = {
  $ref?: string | undefined;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  additionalProperties?: boolean | Schema;
};
type Operation = {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
  /** SDK methods served by this route (e.g. createRow and createRows), with their own response models. */
  methods: { name: string; responses: { code: number; model?: string }[] }[];
};

const spec = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../packages/appwrite-local/spec/open-api3-1.8.x-subset.json', import.meta.url)),
    'utf8',
  ),
) as { paths: Record<string, Record<string, Operation>>; schemas: Record<string, Schema> };

const templates = Object.keys(spec.paths).map((template) => ({
  template,
  params: (template.match(/\{/g) ?? []).length,
  re: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

/** The spec path template an actual path matches (the most specific one), or undefined. */
export function specPathOf(path: string): string | undefined {
  const matches = templates.filter((t) => t.re.test(path)).sort((a, b) => a.params - b.params);
  return matches[0]?.template;
}

/** Checks a value against a schema; returns the problems (empty = valid). */
export function validateSchema(value: unknown, schema: Schema, at = '$'): string[] {
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop() as string;
    const target = spec.schemas[name];
    if (!target) return [`${at}: unknown schema ${name}`];
    return validateSchema(value, target, at);
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    const results = alternatives.map((s) => validateSchema(value, s, at));
    return results.some((r) => r.length === 0)
      ? []
      : [`${at}: matches none of ${alternatives.length} alternatives (${results[0]?.[0]})`];
  }
  switch (schema.type) {
    case 'string':
      return typeof value === 'string' ? [] : [`${at}: expected string, got ${JSON.stringify(value)}`];
    case 'integer':
      if (at.endsWith('.$sequence') && typeof value === 'string' && /^\d+$/.test(value)) return [];
      return Number.isInteger(value) ? [] : [`${at}: expected integer, got ${JSON.stringify(value)}`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: expected number, got ${JSON.stringify(value)}`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected boolean, got ${JSON.stringify(value)}`];
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: expected array`];
      return schema.items
        ? value.flatMap((v, i) => validateSchema(v, schema.items as Schema, `${at}[${i}]`))
        : [];
    }
    case 'object':
    case undefined: {
      if (schema.type === undefined && !schema.properties) return [];
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [`${at}: expected object`];
      const obj = value as Record<string, unknown>;
      const problems = (schema.required ?? [])
        .filter((k) => !(k in obj))
        .map((k) => `${at}: missing required ${k}`);
      for (const [k, s] of Object.entries(schema.properties ?? {})) {
        // Optional properties may be absent; nullable ones (defaults) may be null.
        if (obj[k] === undefined || (obj[k] === null && !(schema.required ?? []).includes(k))) continue;
        problems.push(...validateSchema(obj[k], s, `${at}.${k}`));
      }
      return problems;
    }
    default:
      return [];
  }
}

/** The result of checking traced exchanges. */
export interface SpecReport {
  /** Exchanges whose route is in the spec and that were checked. */
  checked: number;
  /** Routes (method + path template or raw path) that the 1.8 spec does not have (1.9 additions, health). */
  notInSpec: string[];
  /** Problems: undocumented status codes and schema violations. */
  problems: string[];
}

/** Validates every traced exchange whose route exists in the spec. Error responses are checked elsewhere. */
export function checkAgainstSpec(entries: readonly TraceEntry[]): SpecReport {
  const report: SpecReport = { checked: 0, notInSpec: [], problems: [] };
  for (const e of entries) {
    if (e.status >= 400) continue;
    const template = specPathOf(e.path);
    const op = template ? spec.paths[template]?.[e.method.toLowerCase()] : undefined;
    if (!template || !op) {
      report.notInSpec.push(`${e.method} ${template ?? e.path}`);
      continue;
    }
    report.checked++;
    const response = op.responses[String(e.status)];
    if (!response) {
      report.problems.push(
        `${e.method} ${template}: status ${e.status} not documented (${Object.keys(op.responses).join(', ')})`,
      );
      continue;
    }
    const schema = response.content?.['application/json']?.schema;
    if (!schema) {
      if (e.json !== undefined) report.problems.push(`${e.method} ${template}: expected no body`);
      continue;
    }
    const problems = validateSchema(e.json, schema);
    // The route may serve another SDK method whose model this body is (createRows answers a rowList).
    const alternatives = op.methods
      .flatMap((m) =>
        m.responses.filter((r) => r.code === e.status && r.model).map((r) => ({ $ref: r.model })),
      )
      .map((s) => validateSchema(e.json, s));
    if (problems.length && !alternatives.some((a) => a.length === 0)) {
      for (const p of problems) report.problems.push(`${e.method} ${template} (${op.operationId}): ${p}`);
    }
  }
  report.notInSpec = [...new Set(report.notInSpec)];
  return report;
}
