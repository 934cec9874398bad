/**
 * Bundle-time stand-in for `undici` (node-appwrite's only heavy dependency). Appwrite's node-22 runtime has
 * fetch, FormData and File built in, so the bundle uses those instead of shipping undici (~400 KB).
 *
 * Lazy on purpose: touching `globalThis.fetch`/`FormData`/`File` makes Node load its internal undici (tens of
 * ms), so nothing here reads them until a request is actually made — a cold start that answers from memory
 * never pays for it. `new FormData()` / `new File()` return the built-in objects and `instanceof File` checks
 * against the built-in class.
 *
 * `Agent` is only used by node-appwrite's `setSelfSigned(true)`, which bundled functions do not support.
 */
export function fetch(input, init) {
  return globalThis.fetch(input, init);
}

export class FormData {
  constructor(...args) {
    // biome-ignore lint/correctness/noConstructorReturn: a stand-in that yields the built-in object
    return new globalThis.FormData(...args);
  }
  static [Symbol.hasInstance](value) {
    return value instanceof globalThis.FormData;
  }
}

export class File {
  constructor(...args) {
    // biome-ignore lint/correctness/noConstructorReturn: a stand-in that yields the built-in object
    return new globalThis.File(...args);
  }
  static [Symbol.hasInstance](value) {
    return value instanceof globalThis.File;
  }
}

export class Agent {
  constructor() {
    throw new Error('setSelfSigned() is not supported in bundled functions (no undici Agent)');
  }
}
