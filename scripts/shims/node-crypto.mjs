/**
 * Bundle-time stand-in for `node:crypto` that loads the real module on first use. Requiring node:crypto pulls
 * in Node's stream and cipher internals (~10 ms of a cold start) even when an execution never hashes
 * anything. Each export forwards to the real function. Add a name here when code imports a new one (the
 * build fails with "No matching export" until then).
 */
let real;
function crypto() {
  // process.getBuiltinModule: Node >= 22.3 / 20.16; `module.require` is the CommonJS bundle's own require.
  real ??= process.getBuiltinModule ? process.getBuiltinModule('node:crypto') : module.require('node:crypto');
  return real;
}

export const createHash = (...args) => crypto().createHash(...args);
export const createHmac = (...args) => crypto().createHmac(...args);
export const randomBytes = (...args) => crypto().randomBytes(...args);
export const randomUUID = (...args) => crypto().randomUUID(...args);
export const randomInt = (...args) => crypto().randomInt(...args);
export const timingSafeEqual = (...args) => crypto().timingSafeEqual(...args);
