/**
 * Deferred zod schema construction, for every schema declared at module level.
 *
 * Building a zod schema is not free: each `z.string().min(1)` allocates and initialises several schema
 * objects, and the first schema built in a process also pays for compiling zod's own code. A function bundle
 * declares hundreds of schemas (row schemas, route bodies, env, job payloads) across services, and building
 * them all while the module loads was most of a bundle's cold-start time, though one execution uses a few.
 * `lazySchema(() => z.object({ … }))` returns a stand-in that builds the schema on its first use and then
 * forwards everything to it, so a cold start builds only the schemas the execution actually touches.
 *
 * Rule: a module-level schema (`export const xSchema = …`, a route's `body`, a function's `env`, a job
 * type's `payload`) is declared through `lazySchema`. Schemas built inside the factory (the fields of an
 * object, a derived `.extend()`) are ordinary: they are built when the outer schema is.
 */
import type { ZodType } from 'zod';

/**
 * Returns a stand-in for the schema `build()` returns, built on first use: any property read (including the
 * `then` check of `await`ing it or returning it from an async function), `in`, `instanceof`, key listing.
 * Every operation is forwarded to the built schema, and its methods run with `this` bound to it, so `parse`,
 * `safeParse`, `.shape`, `.extend()`, `.optional()`, use as a field of another schema, `instanceof ZodObject`,
 * `.describe()`/registries and `z.infer<typeof x>` behave exactly as on the schema itself. The stand-in is a
 * distinct object (`lazy !== built`; a WeakMap keyed by the stand-in does not find the built schema) and
 * `util.inspect` shows `{}`. An error thrown by `build` (an invalid regex, say) surfaces on first use, and
 * on every use until `build` succeeds; it runs once after that.
 */
export function lazySchema<T extends ZodType>(build: () => T): T {
  let built: T | undefined;
  const real = (): T => {
    if (built === undefined) built = build();
    return built;
  };
  // Methods bound to the built schema, cached per function so `lazy.parse === lazy.parse`.
  const bound = new WeakMap<(...args: never[]) => unknown, unknown>();
  const handler: ProxyHandler<T> = {
    get: (_target, key) => {
      const schema = real();
      // Getters (zod's `shape`, `minLength`, …) run against the built schema too.
      const value: unknown = Reflect.get(schema, key);
      if (typeof value !== 'function') return value;
      let method = bound.get(value as (...args: never[]) => unknown);
      if (method === undefined) {
        method = value.bind(schema);
        bound.set(value as (...args: never[]) => unknown, method);
      }
      return method;
    },
    set: (_target, key, value) => Reflect.set(real(), key, value),
    has: (_target, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      // A proxy may only report a non-configurable property its own (empty) target has.
      if (descriptor) descriptor.configurable = true;
      return descriptor;
    },
    defineProperty: (_target, key, descriptor) => Reflect.defineProperty(real(), key, descriptor),
    deleteProperty: (_target, key) => Reflect.deleteProperty(real(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
    setPrototypeOf: (_target, proto) => Reflect.setPrototypeOf(real(), proto),
  };
  return new Proxy({} as T, handler);
}
