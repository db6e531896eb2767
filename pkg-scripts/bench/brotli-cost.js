#!/usr/bin/env node
// What a part of the wasm costs in the shipped file: brotli bytes, not raw bytes. Alike
// functions (generic instances, `Clone`/`Drop` glue) compress far better than the decision
// code, so wasm-census.js's raw sizes mislead about where a cut pays. For each REGEX (matched
// against function names), the bodies of the last build (target/bindgen/optimised.wasm, names
// kept by `node pkg-scripts/build.js`) are laid out in the build's brotli order
// (lib/wasm-order.js), followed by the data segments, and compressed with and without the
// matching ones: the difference is what those functions cost (×1.2 in the file's text).
// Usage: node pkg-scripts/bench/brotli-cost.js [REGEX ...]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { parse, chainOrder, reader } = require('../lib/wasm-order.js');

const USAGE = `Usage: node pkg-scripts/bench/brotli-cost.js [REGEX ...]
  What the functions whose names match each REGEX cost in brotli bytes (the last build's
  target/bindgen/optimised.wasm, from node pkg-scripts/build.js); with none, a breakdown by area.`;
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}

const ROOT = path.resolve(__dirname, '..', '..');
const file = path.join(ROOT, 'target/bindgen/optimised.wasm');
if (!fs.existsSync(file)) {
  console.error(`brotli-cost: ${path.relative(ROOT, file)} is missing: run node pkg-scripts/build.js first`);
  process.exit(2);
}
const { sections, bodies, imported } = parse(fs.readFileSync(file));

/** Defined functions' names, from the name section (subsection 1). */
function functionNames() {
  const names = new Array(bodies.length).fill('?');
  for (const { id, bytes } of sections) {
    if (id !== 0) continue;
    const r = reader(bytes);
    r.at = 1;
    r.leb(); // section size
    const len = r.leb();
    if (bytes.subarray(r.at, r.at + len).toString() !== 'name') continue;
    r.at += len;
    while (r.at < bytes.length) {
      const sub = r.byte();
      const end = r.leb() + r.at;
      if (sub === 1) {
        for (let n = r.leb(); n > 0; n--) {
          const index = r.leb();
          const size = r.leb();
          if (index >= imported) names[index - imported] = bytes.subarray(r.at, r.at + size).toString();
          r.at += size;
        }
      }
      r.at = end;
    }
  }
  return names;
}

const names = functionNames();
const order = chainOrder(bodies);
const data = sections.filter((s) => s.id === 11).map((s) => s.bytes);
const brotli = (parts) => zlib.brotliCompressSync(Buffer.concat(parts), {
  params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_LGWIN]: 24 },
}).length;
const code = order.map((i) => bodies[i]);
const all = brotli([...code, ...data]);
console.log(`code + data: ${all} B brotli (code alone ${brotli(code)}, data alone ${brotli(data)}); ` +
  `code ${code.reduce((a, b) => a + b.length, 0)} B raw in ${bodies.length} functions`);
const filters = process.argv.slice(2);
if (!filters.length) {
  filters.push('^(<|alloc::|core::)', '^auth0_provision::core::(policy|plan)', '^auth0_provision::core::',
    '^auth0_provision::bindings::', '^(wasm_bindgen|js_sys)|externref');
}
for (const source of filters) {
  const re = new RegExp(source);
  const hit = order.filter((i) => re.test(names[i]));
  const raw = hit.reduce((a, i) => a + bodies[i].length, 0);
  const rest = brotli([...order.filter((i) => !re.test(names[i])).map((i) => bodies[i]), ...data]);
  const cost = all - rest;
  console.log(`${source.padEnd(44)} ${String(hit.length).padStart(4)} fns ${String(raw).padStart(7)} B raw ` +
    `${String(cost).padStart(6)} B brotli (${raw ? (cost / raw).toFixed(2) : '-'} per raw byte)`);
}
