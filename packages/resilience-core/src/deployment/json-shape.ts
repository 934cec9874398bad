import { z } from 'zod';
import { lazySchema } from '../schema/lazy-schema.ts';

/**
 * A small JSON-shape language for smoke-request expectations, JSON-serialisable so it can sit in a rollout row
 * and travel in a request body:
 * - `"string" | "number" | "integer" | "boolean" | "null" | "any" | "array" | "object"` — a value of that type;
 * - `{ "$eq": value }` — exactly this value (deep equality); `{ "$oneOf": [shape, ...] }` — any of the shapes;
 * - `{ "$optional": shape }` (inside an object) — the key may be missing;
 * - `[shape]` — an array whose every element matches `shape`;
 * - `{ key: shape, ... }` — an object having these keys (extra keys are allowed).
 */
export type JsonShape =
  | 'string'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'null'
  | 'any'
  | 'array'
  | 'object'
  | { $eq: unknown }
  | { $oneOf: JsonShape[] }
  | { $optional: JsonShape }
  | [JsonShape]
  | { [key: string]: JsonShape };

const primitive = lazySchema(() =>
  z.enum(['string', 'number', 'integer', 'boolean', 'null', 'any', 'array', 'object']),
);

/** zod schema of {@link JsonShape}. */
export const jsonShapeSchema: z.ZodType<JsonShape> = lazySchema(
  () =>
    z.lazy(() =>
      z.union([
        primitive,
        z.object({ $eq: z.unknown() }).strict(),
        z.object({ $oneOf: z.array(jsonShapeSchema).min(1) }).strict(),
        z.object({ $optional: jsonShapeSchema }).strict(),
        z.tuple([jsonShapeSchema]),
        z.record(z.string(), jsonShapeSchema),
      ]),
    ) as z.ZodType<JsonShape>,
);

/**
 * Checks `value` against `shape`; returns the list of mismatches (empty when it matches), each as
 * `path: expected X, got Y`.
 */
export function matchJsonShape(value: unknown, shape: JsonShape, path = '$'): string[] {
  if (typeof shape === 'string') {
    const ok =
      shape === 'any' ||
      (shape === 'null' && value === null) ||
      (shape === 'array' && Array.isArray(value)) ||
      (shape === 'object' && isPlainObject(value)) ||
      (shape === 'integer' && Number.isInteger(value)) ||
      (shape === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
      ((shape === 'string' || shape === 'boolean') && typeof value === shape);
    return ok ? [] : [`${path}: expected ${shape}, got ${describe(value)}`];
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path}: expected array, got ${describe(value)}`];
    return value.flatMap((item, i) => matchJsonShape(item, shape[0], `${path}[${i}]`));
  }
  if ('$eq' in shape && Object.keys(shape).length === 1) {
    return JSON.stringify(value) === JSON.stringify(shape.$eq)
      ? []
      : [`${path}: expected ${JSON.stringify(shape.$eq)}, got ${describe(value)}`];
  }
  if ('$oneOf' in shape && Array.isArray(shape.$oneOf) && Object.keys(shape).length === 1) {
    const options = shape.$oneOf as JsonShape[];
    return options.some((s) => matchJsonShape(value, s, path).length === 0)
      ? []
      : [`${path}: matches none of ${options.length} shapes, got ${describe(value)}`];
  }
  if ('$optional' in shape && Object.keys(shape).length === 1) {
    return value === undefined ? [] : matchJsonShape(value, shape.$optional as JsonShape, path);
  }
  if (!isPlainObject(value)) return [`${path}: expected object, got ${describe(value)}`];
  const out: string[] = [];
  for (const [key, sub] of Object.entries(shape as Record<string, JsonShape>)) {
    const optional = isPlainObject(sub) && '$optional' in sub && Object.keys(sub).length === 1;
    if (!(key in value)) {
      if (!optional) out.push(`${path}.${key}: missing`);
      continue;
    }
    out.push(...matchJsonShape(value[key], sub, `${path}.${key}`));
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}
