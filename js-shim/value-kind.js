// What kind of value `v` is, in one call from the wasm's event reader (src/bindings/read.rs:
// `value_kind` and its `KIND_*` numbers), instead of up to six (typeof checks, the string's length): a warm login reads ~30
// values. A string is -1 - its length (counted before it is copied into wasm memory).
// build.js copies this function into the shipped file; `wasm-pack test` imports this module.
export function provisionValueKind(v) {
  switch (typeof v) {
    case 'string': return -1 - v.length;
    case 'number': return 2;
    case 'boolean': return v ? 4 : 3;
    case 'undefined': return 0;
    case 'object':
      if (v === null) return 5;
      try {
        return Array.isArray(v) ? 6 : 7;
      } catch (_) {
        return 8; // a revoked proxy
      }
    default: return 1; // function, symbol, bigint: JSON has no such value
  }
}
