import type { Row } from '../../ports/table-store.ts';

/** Makes a new, unfrozen object with the same own keys (same order) and values as a row: a shallow copy. */
export type RowCloner = (row: Row) => Row;

/** Rows wider than this are copied with a spread (a generated literal gains little on them). */
const MAX_KEYS = 64;
/** At most this many row shapes get a generated copier; further shapes use the spread (bounded memory). */
const MAX_SHAPES = 1024;

const byShape = new Map<string, RowCloner>();
/** False once the runtime refuses code generation from strings (`--disallow-code-generation-from-strings`). */
let codegen = true;

/** The generic copier: a spread (it defines own data properties, so an own `__proto__` key stays data). */
export const spreadRow: RowCloner = (row) => ({ ...row });

/**
 * The fastest shallow copier for rows of this row's shape (its own keys, in order). The memory adapter replaces a
 * stored row on every increment, and stored rows are frozen: V8 copies a frozen object with a spread on its slow
 * path (several hundred ns for a quota row), while an object literal naming each key is built inline (tens of
 * ns). So each shape gets a function `r => ({"k1": r["k1"], …})`, generated once and shared by every row of that
 * shape. Keys enter the generated source only as JSON string literals, so no key can inject code. A shape with an
 * own `__proto__` key (a literal would set the prototype instead of a key), more than {@link MAX_KEYS} keys, past
 * {@link MAX_SHAPES} shapes, or a runtime without code generation gets {@link spreadRow}.
 */
export function clonerFor(row: Row): RowCloner {
  if (!codegen) return spreadRow;
  const keys = Object.keys(row);
  if (keys.length > MAX_KEYS || keys.includes('__proto__')) return spreadRow;
  const shape = JSON.stringify(keys);
  const known = byShape.get(shape);
  if (known) return known;
  if (byShape.size >= MAX_SHAPES) return spreadRow;
  const body = keys.map((k) => `${JSON.stringify(k)}: r[${JSON.stringify(k)}]`).join(', ');
  let cloner: RowCloner;
  try {
    cloner = new Function('r', `return { ${body} };`) as RowCloner;
  } catch {
    codegen = false;
    return spreadRow;
  }
  byShape.set(shape, cloner);
  return cloner;
}
