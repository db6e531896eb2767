'use strict';
// Shared pieces of the benchmark (pkg-scripts/bench.js): the three Actions, loading an Action
// with its npm dependencies (the peer), an emulator that also answers the SDK's https audience,
// statistics, dependency-tree sizes, and the 20-rule policy of the warm benchmark.
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { TenantEmulator } = require('../emulator/server.js');
const { ActionsRunner } = require('../emulator/runner.js');
const { loginEvent, RETURNING } = require('./event.js');

const ROOT = path.resolve(__dirname, '..', '..');
const ACTIONS = {
  ours: path.join(ROOT, 'dist/action.js'),
  peer: path.join(__dirname, 'peer-action.js'),
  empty: path.join(__dirname, 'empty-action.js'),
};
const FIXTURE = require('../emulator/fixture.json');
const SEED_POLICY = require('../policies/premium-for-google.json');
// The host the peer's SDK is configured with; `.invalid` never resolves, so a request that
// escaped the bench transport would fail instead of reaching anything real.
const PEER_HOST = 'tenant.emulator.invalid';
const PREMIUM = 'rol_premium0000001';

/**
 * Loads an Action as a fresh module, like the runner's loadAction, but with the npm dependencies
 * Auth0 installs for it resolvable (node_modules above the file). Modules it requires are shared
 * through Node's require cache, as they are inside one container.
 */
function loadActionWithDeps(file) {
  const filename = path.resolve(file);
  const m = new Module(filename, null);
  m.filename = filename;
  m.paths = Module._nodeModulePaths(path.dirname(filename));
  m._compile(fs.readFileSync(filename, 'utf8'), filename);
  return m.exports;
}

/** The ActionsRunner for an Action that has npm dependencies (the runner's loader allows none). */
class DepsRunner extends ActionsRunner {
  newProcess() {
    this.action = loadActionWithDeps(this.actionPath);
  }
}

/**
 * The emulator, answering as a tenant reached at https://PEER_HOST behind TLS termination: the
 * SDK always asks for the audience https://<domain>/api/v2/, which the plain emulator only
 * accepts as <its http origin>/api/v2/.
 */
class BenchTenant extends TenantEmulator {
  /**
   * opts.exemptTokenEndpoint: POST /oauth/token does not draw from the rate-limit bucket (on a
   * real tenant the Authentication API's token endpoint has limits of its own; the emulator has
   * one bucket for every route).
   */
  constructor(fixture, opts = {}) {
    super(fixture, opts);
    if (opts.exemptTokenEndpoint && this.limiter) {
      const limiter = this.limiter;
      const take = limiter.take.bind(limiter);
      limiter.take = () => (this.currentRoute === 'POST /oauth/token' ? true : take());
    }
  }

  // Called by handle() synchronously just before the rate-limit check: remember the route.
  takeFault(method, route, pathname) {
    this.currentRoute = route;
    return super.takeFault(method, route, pathname);
  }

  token(params, query, body) {
    if (body && body.audience === `https://${PEER_HOST}/api/v2/`) body = { ...body, audience: `${this.origin}/api/v2/` };
    return super.token(params, query, body);
  }
}

/** event.secrets of each Action against the emulator at `origin`. */
function secretsFor(kind, origin, { policy = SEED_POLICY, client = FIXTURE.clients[0] } = {}) {
  if (kind === 'peer') {
    return { domain: PEER_HOST, clientId: client.client_id, clientSecret: client.client_secret, EMULATOR_ORIGIN: origin };
  }
  if (kind === 'empty') return {};
  return {
    AUTH0_DOMAIN: origin,
    AUTH0_CLIENT_ID: client.client_id,
    AUTH0_CLIENT_SECRET: client.client_secret,
    POLICY: typeof policy === 'string' ? policy : JSON.stringify(policy),
  };
}

/** A runner for `kind` (ours | peer | empty) against `emu`. */
function runnerFor(kind, emu, opts = {}) {
  const Runner = kind === 'peer' ? DepsRunner : ActionsRunner;
  return new Runner({ emulator: emu, actionPath: ACTIONS[kind], secrets: secretsFor(kind, emu.origin, opts) });
}

/** Fixture users: `n` Google users who have never logged in. */
function googleSignups(n, prefix) {
  return Array.from({ length: n }, (_, i) => ({
    user_id: `google-oauth2|${prefix}${String(i).padStart(6, '0')}`,
    email: `${prefix}${i}@gmail.com`,
    email_verified: true,
    name: `${prefix} ${i}`,
    connection: 'google-oauth2',
    logins_count: 0,
    roles: [],
  }));
}

/** A fixture with extra sign-up users. */
function fixtureWith(users) {
  const f = JSON.parse(JSON.stringify(FIXTURE));
  f.users.push(...users);
  return f;
}

/**
 * The warm benchmark's policy: 20 rules, the Google rule last, the 19 before it conditions a
 * returning Google user fails (connection, email domain, client, first login, provider), no
 * claims (the peer sets none).
 */
function policy20() {
  const rules = [];
  for (let i = 0; i < 19; i++) {
    const when = [
      { connection: [`enterprise-saml-${i}`, `enterprise-oidc-${i}`] },
      { email_domain: [`corp${i}.example.com`, `subsidiary${i}.example.org`] },
      { client_id: [`partner-portal-${i}`] },
      { provider: ['google-oauth2'], first_login: true },
      { provider: ['auth0', 'samlp', 'waad'], connection: [`tenant-db-${i}`] },
    ][i % 5];
    rules.push({ name: `rule-${String(i + 1).padStart(2, '0')}`, when, assign_roles: [`Team ${i + 1}`] });
  }
  rules.push({ name: 'premium-for-google', when: { provider: ['google-oauth2'] }, assign_roles: ['Premium User'] });
  return { on_error: 'allow', rules };
}

/**
 * One cold start in a fresh process (cold-child.js): require the Action (`file` for kind
 * "file") and one login of a returning user that needs no network (the secrets point at a
 * closed port); its milliseconds from the require, without Node's own boot.
 */
function coldOnce(kind, file) {
  const { spawnSync } = require('node:child_process');
  const secrets = kind === 'empty' ? {} : secretsFor('ours', 'http://127.0.0.1:9');
  const env = { ...process.env, BENCH_SECRETS: JSON.stringify(secrets), BENCH_ACTION: file || '' };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [path.join(__dirname, 'cold-child.js'), kind, 'returning'], { env, encoding: 'utf8' });
  const line = JSON.parse(r.stdout.trim().split('\n').pop());
  if (line.failed || !line.ok || line.requests) throw new Error(`${file || kind}: ${r.stdout} ${r.stderr}`);
  return line.actionMs;
}

// ---- statistics --------------------------------------------------------------------------

/** Nearest-rank quantile of an ascending array. */
function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, median: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99), min: s[0], max: s[s.length - 1], mean };
}

// ---- deployable size ---------------------------------------------------------------------

function dirBytes(dir, skipNodeModules = true) {
  let bytes = 0;
  let files = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (skipNodeModules && entry.name === 'node_modules') continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = dirBytes(p, false);
      bytes += sub.bytes;
      files += sub.files;
    } else if (entry.isFile()) {
      bytes += fs.statSync(p).size;
      files += 1;
    }
  }
  return { bytes, files };
}

/** Where Node (and npm's layout) finds package `name` required from package directory `from`. */
function resolvePackage(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * The runtime dependency closure of package `name` (dependencies, optional and non-optional peer
 * dependencies, as npm installs them), each package's files without its nested node_modules
 * (those are packages of the closure themselves).
 */
function dependencyTree(name, from = ROOT) {
  const seen = new Map();
  const missing = [];
  const visit = (dir) => {
    const real = fs.realpathSync(dir);
    if (seen.has(real)) return;
    const pkg = JSON.parse(fs.readFileSync(path.join(real, 'package.json'), 'utf8'));
    seen.set(real, { name: pkg.name, version: pkg.version, dir: path.relative(ROOT, dir), ...dirBytes(real) });
    const optionalPeers = pkg.peerDependenciesMeta || {};
    const deps = {
      ...(pkg.dependencies || {}),
      ...(pkg.optionalDependencies || {}),
      ...Object.fromEntries(Object.entries(pkg.peerDependencies || {}).filter(([k]) => !(optionalPeers[k] && optionalPeers[k].optional))),
    };
    for (const dep of Object.keys(deps)) {
      const d = resolvePackage(dep, dir);
      if (d) visit(d);
      else if (!(pkg.optionalDependencies || {})[dep]) missing.push(`${pkg.name} → ${dep}`);
    }
  };
  const top = resolvePackage(name, from);
  if (!top) throw new Error(`package ${name} is not installed: run npm install`);
  visit(top);
  const packages = [...seen.values()];
  return {
    packages,
    bytes: packages.reduce((n, p) => n + p.bytes, 0),
    files: packages.reduce((n, p) => n + p.files, 0),
    missing,
  };
}

module.exports = {
  ROOT, ACTIONS, FIXTURE, SEED_POLICY, PEER_HOST, PREMIUM, RETURNING,
  loadActionWithDeps, DepsRunner, BenchTenant, secretsFor, runnerFor, googleSignups, fixtureWith,
  loginEvent, policy20, coldOnce, quantile, summary, dirBytes, dependencyTree,
};
