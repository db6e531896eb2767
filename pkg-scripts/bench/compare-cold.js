#!/usr/bin/env node
'use strict';
// Cold start of two builds of the Action side by side, interleaved with an empty Action in
// one run: fresh Node process, require the file, one post-login of a returning user that
// needs no network (timed from the require, so Node's own boot does not blur it). Prints medians and p90s, each build above the empty Action, and B / A.
// Usage: node pkg-scripts/bench/compare-cold.js A.js B.js [N]   (default N = 30 rounds)
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const [a, b, n = '30'] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node pkg-scripts/bench/compare-cold.js A.js B.js [N]');
  process.exit(2);
}
const child = path.join(__dirname, 'cold-child.js');
const SECRETS = JSON.stringify({
  AUTH0_DOMAIN: 'http://127.0.0.1:9', AUTH0_CLIENT_ID: 'x', AUTH0_CLIENT_SECRET: 'y',
  POLICY: JSON.stringify({ claims_namespace: 'https://example.com/', rules: [{ name: 'premium-for-google', when: { provider: ['google-oauth2'] }, assign_roles: ['Premium User'] }] }),
});

function once(kind, file) {
  const r = spawnSync(process.execPath, [child, kind, 'returning'], {
    env: { ...process.env, BENCH_SECRETS: SECRETS, BENCH_ACTION: file || '' }, encoding: 'utf8',
  });
  const line = JSON.parse(r.stdout.trim().split('\n').pop());
  if (line.failed || !line.ok || line.requests) throw new Error(`${file || kind}: ${r.stdout} ${r.stderr}`);
  return line.actionMs; // require + the login, without Node's own boot
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
