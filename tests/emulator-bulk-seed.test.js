'use strict';
// The generated tenant (pkg-scripts/emulator/seed.js): deterministic, the documented mix,
// memory-light (reads make no copies that stay), ids that only the generator's users have;
// and `npm run emulator` (pkg-scripts/emulator/cli.js): three lines on stdout, a tenant the
// tools accept and can use, a clean stop on SIGTERM.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { makeGenerator, seedStats, seedFixture, SEED_SCOPES } = require('../pkg-scripts/emulator/seed.js');
const { call, seeded, getToken, enc } = require('./bulk-http.js');
const { schemaAt } = require('./openapi.js');

const CLI = path.join(__dirname, '../pkg-scripts/emulator/cli.js');
const FIXTURE_ROLES = require('../pkg-scripts/emulator/fixture.json').roles;

describe('seed generator', () => {
  test('deterministic: the same N and seed give the same tenant; the first k users do not depend on N; another seed differs', () => {
    const a = makeGenerator({ users: 2000 });
    const b = makeGenerator({ users: 2000 });
    const c = makeGenerator({ users: 300 });
    const d = makeGenerator({ users: 2000, seed: 'other' });
    for (const i of [0, 1, 17, 299, 1999]) assert.deepEqual(a.make(i), b.make(i));
    for (const i of [0, 150, 299]) assert.deepEqual(a.make(i), c.make(i));
    assert.deepEqual(seedStats(a), seedStats(b));
    let same = 0;
    for (let i = 0; i < 200; i++) if (JSON.stringify(a.make(i)) === JSON.stringify(d.make(i))) same++;
    assert.equal(same, 0);
  });

  test('the documented mix (20,000 users)', () => {
    const g = makeGenerator({ users: 20000 });
    const s = seedStats(g);
    const near = (n, share, what) => assert.ok(Math.abs(n / 20000 - share) < 0.015, `${what}: ${n} of 20000, expected about ${share}`);
    near(s.providers['google-oauth2'], 0.40, 'google-oauth2');
    near(s.providers.auth0, 0.30, 'auth0');
    for (const p of ['github', 'samlp', 'email']) near(s.providers[p], 0.10, p);
    near(s.plans.premium, 0.20, 'plan premium');
    near(s.plans.trial, 0.10, 'plan trial');
    near(s.plans.free, 0.10, 'plan free');
    near(s.roles['Premium User'], 0.20 * 0.85 + 0.80 * 0.01, 'Premium User holders');
    near(s.roles.Admin, 0.001, 'Admin');
    near(s.never_logged_in, 0.15, 'logins_count 0');
    assert.ok(s.roles.Admin >= 5, 'some Admins by hand');
    const domains = new Set();
    for (let i = 0; i < 2000; i++) {
      const u = g.make(i);
      domains.add(u.email.split('@')[1]);
      assert.equal(g.indexOf(u.user_id), i);
      assert.ok(u.roles.every((r) => FIXTURE_ROLES.some((x) => x.id === r)));
      assert.ok(schemaAt('components/schemas/UserResponseSchema')({ ...u, roles: undefined, permissions: undefined, connection: undefined }), u.user_id);
    }
    for (const dom of ['gmail.com', 'example.com', 'acme.com', 'outlook.com', 'yahoo.com']) assert.ok(domains.has(dom), dom);
  });

  test('only the generator\'s own ids are its users', () => {
    const g = makeGenerator({ users: 100 });
    const ids = Array.from({ length: 100 }, (_, i) => g.idOf(i));
    for (const id of [...ids.map((x) => x + '0'), ids[5].replace(/\d$/, (x) => String((Number(x) + 1) % 10)), 'google-oauth2|100000000000000000100',
      'github|10000100', 'samlp|acme-saml|employee-100', 'samlp|acme-saml|employee-05', 'auth0|' + '0'.repeat(24), '', 'x', null]) {
      assert.equal(g.indexOf(id), ids.indexOf(id), String(id));
    }
    assert.throws(() => makeGenerator({ users: -1 }), /integer/);
  });

  test('memory-light: listing, paging and exporting keep no user; a write keeps that one only', async () => {
    const t = await seeded(20000, { exportJobMs: 0 });
    try {
      const written = () => t.emu.users.written.size;
      await call(t.origin, 'GET', '/api/v2/users?page=3&per_page=100', { token: t.token });
      await call(t.origin, 'GET', '/api/v2/roles/rol_premium0000001/users?take=100', { token: t.token });
      await call(t.origin, 'GET', `/api/v2/users/${enc(t.emu.users.gen.idOf(7))}`, { token: t.token });
      await call(t.origin, 'GET', `/api/v2/users/${enc(t.emu.users.gen.idOf(7))}/roles`, { token: t.token });
      const job = await call(t.origin, 'POST', '/api/v2/jobs/users-exports', { token: t.token, body: {} });
      const loc = (await call(t.origin, 'GET', `/api/v2/jobs/${job.json.id}`, { token: t.token })).json.location;
      assert.equal((await call('', 'GET', loc)).status, 200);
      assert.equal(written(), 0);
      await call(t.origin, 'PATCH', `/api/v2/users/${enc(t.emu.users.gen.idOf(9))}`, { token: t.token, body: { app_metadata: { x: 1 } } });
      assert.equal(written(), 1);
      assert.equal(t.emu.users.get(t.emu.users.gen.idOf(9)).app_metadata.x, 1, 'emu.users.get sees the write (and keeps mutations)');
    } finally {
      await t.stop();
    }
  });

  test('the fixture: Auth0-shaped connection ids, fixture.json\'s roles, a client with the scopes reconcile and deploy need', () => {
    const f = seedFixture();
    for (const c of f.connections) assert.match(c.id, /^con_[A-Za-z0-9]{16}$/);
    assert.deepEqual(f.roles, FIXTURE_ROLES);
    for (const s of ['read:users', 'update:users', 'update:users_app_metadata', 'read:roles', 'read:role_members', 'create:role_members',
      'delete:role_members', 'read:actions', 'create:actions', 'update:actions']) assert.ok(SEED_SCOPES.includes(s), s);
    assert.notEqual(seedFixture().clients[0].client_secret, f.clients[0].client_secret, 'a random secret per fixture');
  });
});

/** Runs the CLI until it has printed three stdout lines; resolves {child, lines, stderr()}. */
function startCli(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c) => { err += c; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no three lines in 10 s; stderr: ${err}`)); }, 10000);
    child.stdout.on('data', (c) => {
      out += c;
      if (out.split('\n').length > 3) {
        clearTimeout(timer);
        resolve({ child, lines: out.split('\n').slice(0, 3), out: () => out, stderr: () => err });
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}: ${err}`)); });
  });
}

describe('npm run emulator (pkg-scripts/emulator/cli.js)', () => {
  test('prints exactly three lines, serves the seeded tenant, stops cleanly on SIGTERM', async () => {
    const { child, lines, out, stderr } = await startCli(['--users', '250', '--rate', 'essentials', '--speed', '50', '--seed', '7']);
    const env = Object.fromEntries(lines.map((l) => l.split(/=(.*)/s).slice(0, 2)));
    assert.deepEqual(Object.keys(env), ['AUTH0_DOMAIN', 'AUTH0_CLIENT_ID', 'AUTH0_CLIENT_SECRET']);
    assert.match(env.AUTH0_DOMAIN, /^http:\/\/127\.0\.0\.1:\d+$/);
    // The form the tools accept: their own rule (http only on loopback) says so.
    const { checkSecrets } = require('../pkg-scripts/lib/check-secrets.js');
    assert.equal(checkSecrets({ AUTH0_DOMAIN: env.AUTH0_DOMAIN }, { requireCredentials: false }).origin, env.AUTH0_DOMAIN);
    const token = await getToken(env.AUTH0_DOMAIN, { client_id: env.AUTH0_CLIENT_ID, client_secret: env.AUTH0_CLIENT_SECRET });
    const page = await call(env.AUTH0_DOMAIN, 'GET', '/api/v2/users?per_page=2&include_totals=true', { token });
    assert.equal(page.json.total, 250);
    assert.equal(page.json.users[0].user_id, makeGenerator({ users: 250, seed: 7 }).idOf(0), 'the seed given');
    assert.equal(page.headers.get('x-ratelimit-limit'), '40', 'the essentials profile');
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 0);
    assert.equal(out(), lines.join('\n') + '\n', 'nothing else on stdout');
    assert.match(stderr(), /250 users \(seed 7\), rate essentials x50/);
    assert.match(stderr(), /SIGTERM: stopping after \d+ request/);
    assert.ok(!stderr().includes(env.AUTH0_CLIENT_SECRET), 'the secret is on stdout only');
  });

  test('a bad option is a usage error (exit 2) before anything starts', () => {
    for (const args of [['--rate', 'platinum'], ['--users', '-1'], ['--users', '1e3'], ['--speed', '0'], ['--port', '70000'], ['--nope']]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10000 });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /Usage: npm run emulator/);
    }
  });
});
