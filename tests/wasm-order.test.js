'use strict';
// pkg-scripts/lib/wasm-order.js: the function layout build.js gives the wasm for brotli.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chainOrder, rankNames, parse } = require('../pkg-scripts/lib/wasm-order.js');

const bytes = (seed, n) => Buffer.from(Array.from({ length: n }, (_, i) => (Math.imul(i + 1, seed) >>> 7) & 0xff));

test('the chain is a permutation that puts alike bodies next to each other', () => {
  const a = bytes(2654435761, 400);
  const b = bytes(40503, 300);
  const a2 = Buffer.concat([a.subarray(0, 390), Buffer.from([1, 2, 3])]); // nearly a
  const c = bytes(97, 200);
  const order = chainOrder([a, b, c, a2]);
  assert.deepEqual([...order].sort(), [0, 1, 2, 3]);
  assert.equal(order[0], 0, 'starts at the largest');
  assert.equal(order[1], 3, 'a is followed by its near copy');
  assert.deepEqual(chainOrder([a, b, c, a2]), order, 'deterministic');
});

test('rankNames keeps every section but the name section and names each function once', () => {
  const wasm = fs.readFileSync(path.join(__dirname, '../target/bindgen/optimised.wasm'));
  const ranked = rankNames(wasm);
  assert.ok(WebAssembly.validate(ranked));
  const before = parse(wasm);
  const after = parse(ranked);
  assert.equal(after.imported, before.imported);
  assert.equal(after.bodies.length, before.bodies.length);
  after.bodies.forEach((body, i) => assert.ok(body.equals(before.bodies[i])));
  const names = WebAssembly.Module.customSections(new WebAssembly.Module(ranked), 'name');
  assert.equal(names.length, 1);
  const ids = before.sections.filter((s) => !(s.id === 0)).map((s) => s.id);
  assert.deepEqual(after.sections.filter((s) => !(s.id === 0)).map((s) => s.id), ids);
});
