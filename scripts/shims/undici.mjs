/**
 * Bundle-time stand-in for `undici` (node-appwrite's only heavy dependency). Appwrite's node-22 runtime has
 * fetch, FormData and File built in, so the bundle uses those instead of shipping undici (~400 KB).
 * `Agent` is only used by node-appwrite's `setSelfSigned(true)`, which bundled functions do not support.
 */
export const fetch = (...args) => globalThis.fetch(...args);
export const FormData = globalThis.FormData;
export const File = globalThis.File;
export class Agent {
  constructor() {
    throw new Error('setSelfSigned() is not supported in bundled functions (no undici Agent)');
  }
}
