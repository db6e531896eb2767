'use strict';
// Set-up for the reconcile tests: a seeded emulator (emu-bulk's generated users) on
// 127.0.0.1 in this process, the real CLI as a child process against it (asynchronously: the
// emulator must keep serving while it runs), the tenant's state as a comparable snapshot, and
// a watch on every write that tells the ones that changed nothing.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const { TenantEmulator } = require('../pkg-scripts/emulator/server.js');
const { seedFixture } = require('../pkg-scripts/emulator/seed.js');

const ROOT = path.resolve(__dirname, '..');
const POLICY = path.join(__dirname, 'fixtures/reconcile-policy.json');
const CORE = path.join(ROOT, 'target/release/policy');

/**
 * A started emulator with `users` generated users. opts: emulator options (rateProfile,
 * rateSpeed, exportJobMs, …); pending: every how-many-th trial user gets a provisioning_pending
 * marker for the rule "trial" (so the plan has phase-4 writes).
 */
async function tenant(users, { pending = 0, ...opts } = {}) {
  const secret = crypto.randomBytes(18).toString('base64url');
  const fixture = seedFixture({ clientSecret: secret });
  const emu = new TenantEmulator(fixture, { seed: { users, seed: 7 }, exportJobMs: 200, ...opts });
  const origin = await emu.start();
  if (pending) {
    let n = 0;
    for (let i = 0; i < users; i++) {
      if (emu.users.gen.traits(i).plan !== 'trial' || n++ % pending) continue;
      const u = emu.users.get(emu.users.gen.idOf(i));
      u.app_metadata = { ...u.app_metadata, provisioning_pending: ['trial'] };
    }
  }
  const env = { AUTH0_DOMAIN: origin, AUTH0_CLIENT_ID: fixture.clients[0].client_id, AUTH0_CLIENT_SECRET: secret };
  return { emu, origin, env, secret, stop: () => emu.stop() };
}

const scratchDirs = [];
process.on('exit', () => { for (const d of scratchDirs) fs.rmSync(d, { recursive: true, force: true }); });

/** A scratch directory, removed at exit. */
function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconcile-test-'));
  scratchDirs.push(dir);
  return dir;
}

/**
 * Runs `node pkg-scripts/<script> ...args` with the tenant's variables (and no .env: cwd is a
 * scratch directory). Resolves {status, signal, stdout, stderr}; `onSpawn(child)` sees it.
 */
function run(script, args, env, { onSpawn, cwd = scratch() } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'pkg-scripts', script), ...args], {
      cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, DEPLOY_POLICY_CHECKER: CORE, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    if (onSpawn) onSpawn(child);
  });
}

const reconcile = (args, env, o) => run('reconcile.js', args, env, o);

const isWrite = (e) => e.method !== 'GET' && e.route.startsWith(`${e.method} /api/v2/`) && !e.route.startsWith(`${e.method} /api/v2/jobs/`);

/** Write requests the emulator has answered so far, by route (an export job writes nothing of the tenant's). */
function writeCounts(emu) {
  const out = {};
  for (const [route, c] of Object.entries(emu.routeStats())) {
    const [method, p] = route.split(' ');
    if (method !== 'GET' && p.startsWith('/api/v2/') && !p.startsWith('/api/v2/jobs/')) out[route] = c.requests;
  }
  return out;
}
const total = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);

/** 429s and requests over all routes. */
function limitedStats(emu) {
  let requests = 0;
  let limited = 0;
  for (const c of Object.values(emu.routeStats())) {
    requests += c.requests;
    limited += c.limited;
  }
  return { requests, limited };
}

/** What a user is, for comparing tenants: roles (sorted), app_metadata, user_metadata. */
function userState(u) {
  return u ? JSON.stringify([[...u.roles].sort(), u.app_metadata, u.user_metadata]) : 'gone';
}

/** Every user's state: Map(id → string). */
function snapshot(emu) {
  const out = new Map();
  for (const [, u] of emu.users.scan()) out.set(u.user_id, userState(u));
  return out;
}

/**
 * Watches writes from now on: {writes, noop, log}. A write is a no-op when none of the users
 * it names changed (state before the handler vs after).
 */
function watchWrites(emu) {
  const w = { writes: 0, noop: 0, noops: [] };
  const original = emu.dispatch.bind(emu);
  emu.dispatch = (req, url, entry) => {
    if (!isWrite(entry)) return original(req, url, entry);
    const m = /^\/api\/v2\/users\/([^/]+)/.exec(url.pathname);
    const ids = m ? [decodeURIComponent(m[1])] : (entry.body && Array.isArray(entry.body.users) ? entry.body.users : []);
    const before = ids.map((id) => userState(emu.users.peek(id)));
    const r = original(req, url, entry);
    w.writes++;
    if (r.status < 300 && ids.every((id, i) => userState(emu.users.peek(id)) === before[i])) {
      w.noop++;
      w.noops.push(entry.route);
    }
    return r;
  };
  w.stop = () => { emu.dispatch = original; };
  return w;
}

/** Lines of a JSONL file, parsed. */
const jsonl = (file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

module.exports = { tenant, run, reconcile, scratch, writeCounts, total, limitedStats, snapshot, userState, watchWrites, jsonl, isWrite, POLICY, CORE, ROOT };
