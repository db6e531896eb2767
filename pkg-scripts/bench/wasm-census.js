#!/usr/bin/env node
// Where the wasm's bytes go: re-optimises the last build's wasm-bindgen output
// (target/bindgen/glue_bg.wasm, from `node pkg-scripts/build.js`) with the build's wasm-opt
// flags but keeping the name section, then lists function body sizes, largest first.
// Usage: node pkg-scripts/bench/wasm-census.js [REGEX] [--top N]
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 30;
const filter = args[0] ? new RegExp(args[0]) : null;

const raw = path.join(ROOT, 'target/bindgen/glue_bg.wasm');
const named = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'census-')), 'named.wasm');
// The same passes as pkg-scripts/build.js, minus the stripping.
execFileSync(process.execPath, [require.resolve('binaryen/bin/wasm-opt'), '--one-caller-inline-max-function-size=25',
  '-Oz', '--converge', '--gufa', '-Oz', '--low-memory-unused', '--zero-filled-memory', '--debuginfo', '-o', named, raw]);
const b = fs.readFileSync(named);

let p = 8; // after the magic and version
function leb() {
  let r = 0;
  let s = 0;
  let x;
  do {
    x = b[p++];
    r |= (x & 0x7f) << s;
    s += 7;
  } while (x & 0x80);
  return r >>> 0;
}
const skipName = () => {
  const len = leb();
  p += len;
};
let imported = 0;
const bodies = [];
const names = new Map();
while (p < b.length) {
  const id = b[p++];
  const end = leb() + p;
  if (id === 2) { // imports: only function imports shift the function index space
    for (let n = leb(); n > 0; n--) {
      skipName();
      skipName();
      const kind = b[p++];
      if (kind === 0) { leb(); imported++; } else if (kind === 1) { p++; if (leb() & 1) leb(); leb(); } else if (kind === 2) { if (leb() & 1) { leb(); } leb(); } else if (kind === 3) p += 2;
    }
  } else if (id === 10) {
    for (let n = leb(); n > 0; n--) {
      const len = leb();
      bodies.push(len);
      p += len;
    }
  } else if (id === 0) {
    const nameLen = leb();
    const custom = b.subarray(p, p + nameLen).toString();
    p += nameLen;
    while (custom === 'name' && p < end) {
      const sub = b[p++];
      const subEnd = leb() + p;
      if (sub === 1) {
        for (let n = leb(); n > 0; n--) {
          const idx = leb();
          const len = leb();
          names.set(idx, b.subarray(p, p + len).toString());
          p += len;
        }
      }
      p = subEnd;
    }
  }
  p = end;
}
const rows = bodies.map((size, i) => [size, names.get(i + imported) || `f${i + imported}`]).sort((x, y) => y[0] - x[0]);
const total = rows.reduce((t, r) => t + r[0], 0);
const shown = filter ? rows.filter((r) => filter.test(r[1])) : rows;
console.log(`code ${total} bytes in ${rows.length} functions${filter ? `; matching ${filter}: ${shown.reduce((t, r) => t + r[0], 0)} bytes in ${shown.length}` : ''}`);
for (const [size, name] of shown.slice(0, top)) console.log(String(size).padStart(6), name);
