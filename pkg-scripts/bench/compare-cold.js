#!/usr/bin/env node
'use strict';
// Cold start of two builds of the Action side by side, interleaved with an empty Action in
// one run: fresh Node process, require the file, one post-login of a returning user that
// needs no network (timed from the require, so Node's own boot does not blur it). Prints medians and p90s, each build above the empty Action, and B / A.
// Usage: node pkg-scripts/bench/compare-cold.js A.js B.js [N]   (default N = 30 rounds)
const path = require('node:path');
const { coldOnce: once } = require('./harness.js');

const [a, b, n = '30'] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node pkg-scripts/bench/compare-cold.js A.js B.js [N]');
  process.exit(2);
}

const runs = { empty: [], A: [], B: [] };
for (let i = 0; i < Number(n); i++) {
  runs.empty.push(once('empty'));
  runs.A.push(once('file', a));
  runs.B.push(once('file', b));
}
const q = (xs, p) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const f = (x) => x.toFixed(2).padStart(7);
console.log(`cold start: require + one returning-user login in a fresh process, ${n} interleaved rounds (ms)`);
console.log('                 median     p90   above empty (median)');
for (const [k, label] of [['empty', 'empty Action'], ['A', path.basename(path.dirname(a)) + '/' + path.basename(a)], ['B', path.basename(path.dirname(b)) + '/' + path.basename(b)]]) {
  const extra = k === 'empty' ? '' : f(q(runs[k], 0.5) - q(runs.empty, 0.5)) + ' ms';
  console.log(`${label.padEnd(16)} ${f(q(runs[k], 0.5))} ${f(q(runs[k], 0.9))}   ${extra}`);
}
const above = (k) => q(runs[k], 0.5) - q(runs.empty, 0.5);
console.log(`B / A above empty: ${(above('B') / above('A')).toFixed(2)}×`);
