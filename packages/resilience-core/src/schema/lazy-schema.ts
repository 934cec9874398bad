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
 * Returns a stand-in for the schema `build()` returns, built on first use (any property read, `in`,
 * `instanceof`, key listing). Behaves as that schema in every way zod and callers observe — `parse`,
 * `safeParse`, `.shape`, `.extend()`, `.optional()`, use as a field of another schema, `instanceof
 * ZodObject`, `z.infer<typeof x>` — except that it is a distinct object (`lazy !== built`, so a WeakMap or
 * registry keyed by the built schema does not find the stand-in) and `util.inspect` shows `{}` until
 * built. Errors thrown by `build` (an invalid regex, say) surface on first use, on every use until it
 * succeeds. `build` runs at most once once it has returned.
 */
export function lazySchema<T extends ZodType>(build: () => T): T {
  let built: T | undefined;
  const real = (): T => {
    if (built === undefined) built = build();
    return built;
  };
  const handler: ProxyHandler<T> = {
    // Getters (zod's `shape`, `minLength`, …) run against the built schema.
    get: (_target, key) => Reflect.get(real(), key),
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
