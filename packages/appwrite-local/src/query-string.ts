/**
 * PHP-style query-string decoding, as Appwrite reads what the SDKs send: `queries[0]=a&queries[1]=b` becomes
 * `{queries: ['a', 'b']}`, `a[b]=1` becomes `{a: {b: '1'}}`, `k[]=x` appends. Values stay strings.
 */

/** Nesting depth honoured; deeper bracket segments are ignored (defends against pathological input). */
const MAX_DEPTH = 5;

/** Decodes a raw query string (without `?`) into nested objects and arrays. Never throws. */
export function parseQueryString(raw: string): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  if (!raw) return {};
  for (const pair of raw.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const key = safeDecode(rawKey);
    // PHP drops parameters without a name (`=x`, `[a]=x`).
    if (key === '' || key.startsWith('[')) continue;
    const value = safeDecode(rawValue);
    const path = keyPath(key);
    assign(out, path, value);
  }
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(out)) result[key] = normaliseArrays(out[key]);
  return result;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function keyPath(key: string): string[] {
  const first = key.indexOf('[');
  if (first <= 0) return [key];
  const path = [key.slice(0, first)];
  const re = /\[([^\]]*)\]/g;
  re.lastIndex = first;
  let m: RegExpExecArray | null = re.exec(key);
  while (m && path.length <= MAX_DEPTH) {
    path.push(m[1] as string);
    m = re.exec(key);
  }
  return path;
}

type Node = Record<string, unknown>;

/** Keys that would reach an object's prototype; a parameter naming one is dropped. */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function assign(target: Node, path: string[], value: string): void {
  if (path.some((seg) => FORBIDDEN.has(seg))) return;
  let node = target;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i] as string;
    let next = Object.hasOwn(node, seg) ? node[seg] : undefined;
    if (typeof next !== 'object' || next === null) {
      next = Object.create(null) as Node;
      node[seg] = next;
    }
    node = next as Node;
  }
  let last = path[path.length - 1] as string;
  if (last === '') last = String(Object.keys(node).length);
  node[last] = value;
}

/** Objects whose keys are exactly 0..n-1 become arrays (ordered by index). */
function normaliseArrays(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Node;
  const keys = Object.keys(obj);
  for (const k of keys) obj[k] = normaliseArrays(obj[k]);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => obj[String(k)]);
  }
  return { ...obj };
}
