/**
 * Bundle-time stand-in for `json-bigint` (and its bignumber.js dependency) over the native JSON object.
 * parse: integers beyond 2^53 become exact `bigint`s where the runtime exposes the source text to revivers
 * (Node 22; node-appwrite's own reviver then keeps them), else plain numbers. stringify: `bigint`s are written
 * as raw integer literals (JSON.rawJSON, Node 22) or numbers.
 */
function reviveBig(value, context) {
  if (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    !Number.isSafeInteger(value) &&
    context &&
    typeof context.source === 'string' &&
    /^-?\d+$/.test(context.source)
  ) {
    return BigInt(context.source);
  }
  return value;
}

function replaceBig(_key, value) {
  if (typeof value !== 'bigint') return value;
  return typeof JSON.rawJSON === 'function' ? JSON.rawJSON(value.toString()) : Number(value);
}

export default function JSONbig() {
  return {
    parse(text, reviver) {
      return JSON.parse(text, function (key, value, context) {
        const big = reviveBig(value, context);
        return reviver ? reviver.call(this, key, big) : big;
      });
    },
    stringify(value, replacer, space) {
      if (typeof replacer === 'function') {
        return JSON.stringify(value, (k, v) => replaceBig(k, replacer(k, v)), space);
      }
      return JSON.stringify(value, replaceBig, space);
    },
  };
}
