'use strict';
// One cold start (spawned by pkg-scripts/bench.js, one fresh Node process per sample): loads an
// Action as the runner does (the peer with its npm dependencies resolvable) and runs one login,
// then prints one JSON line of timings measured from process start (performance.timeOrigin).
// Usage: node cold-child.js ours|peer|peer-top|empty|file returning|signup (file: env BENCH_ACTION)
//   env BENCH_SECRETS: event.secrets (JSON); BENCH_USER (signup): the user id signing up.
const tStart = performance.now(); // ms since process start: Node's own bootstrap before user code
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { ActionCache } = require('../emulator/runner.js');
const { loginEvent } = require('./event.js');

const [kind, scenario] = process.argv.slice(2);
const file = {
  ours: path.resolve(__dirname, '../../dist/action.js'),
  peer: path.join(__dirname, 'peer-action.js'),
  'peer-top': path.join(__dirname, 'peer-action-toplevel.js'),
  empty: path.join(__dirname, 'empty-action.js'),
  // Any built Action (compare-cold.js: one build against another in the same run).
  file: process.env.BENCH_ACTION && path.resolve(process.env.BENCH_ACTION),
}[kind];
const secrets = JSON.parse(process.env.BENCH_SECRETS || '{}');
const user = scenario === 'signup' ? { user_id: process.env.BENCH_USER, logins_count: 1, roles: [] } : {};
const { event, api, rec } = loginEvent(secrets, new ActionCache(), user);
const before = new Set(Object.keys(Module._cache));

async function main() {
  const tLoad = performance.now();
  const filename = file;
  const m = new Module(filename, null);
  m.filename = filename;
  // The runner's loader: no node_modules for ours and the empty Action (deployed without
  // dependencies); the peer's `auth0` dependency resolves as Auth0 installs it.
  m.paths = kind.startsWith('peer') ? Module._nodeModulePaths(path.dirname(filename)) : [];
  m._compile(fs.readFileSync(filename, 'utf8'), filename);
  const tLoaded = performance.now();
  const outcome = await m.exports.onExecutePostLogin(event, api);
  const tEnd = performance.now();
  // What the Action made Node read: its own file and every module it required.
  const loaded = [filename, ...Object.keys(Module._cache).filter((f) => !before.has(f))];
  const loadedBytes = loaded.reduce((n, f) => n + fs.statSync(f).size, 0);
  process.stdout.write(JSON.stringify({
    kind,
    scenario,
    bootMs: tStart,
    loadMs: tLoaded - tLoad,
    loginMs: tEnd - tLoaded,
    actionMs: tEnd - tLoad,
    toLoginEndMs: tEnd,
    loadedFiles: loaded.length,
    loadedBytes,
    ok: !rec.denied && !(outcome && outcome.error),
    requests: outcome && typeof outcome.requests === 'number' ? outcome.requests : null,
  }) + '\n', () => process.exit(0)); // do not wait for keep-alive sockets (Auth0 keeps the container)
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ kind, scenario, failed: String(e && e.name) }) + '\n');
  process.exitCode = 1;
});
