'use strict';
// The seed scenario, end to end: dist/action.js loaded as deployed, against the local tenant.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { tenant, routes, USERS, FIXTURE, SEED_POLICY } = require('./helpers.js');
const { ActionsRunner } = require('../pkg-scripts/emulator/runner.js');

const PREMIUM = 'rol_premium0000001';
const CLAIM = 'https://example.com/roles';
const seen = []; // every tenant started here, for the secret scan at the end

async function start(opts) {
  const t = await tenant(opts);
  seen.push(t);
  return t;
}

after(async () => {
  // Secret hygiene: no log line of any execution in this file holds a credential or token.
  const logs = ActionsRunner.allLogs();
  assert.ok(logs.length > 0, 'expected some log lines to scan');
  for (const t of seen) {
    const tokens = [...t.emu.tokens.keys()];
    for (const line of logs) {
      assert.ok(!line.includes(t.client.client_secret), `client secret in log: ${line}`);
      for (const tok of tokens) assert.ok(!line.includes(tok), `token in log: ${line}`);
      assert.ok(line.length <= 256, `log line over 256 chars: ${line}`);
    }
    await t.stop();
  }
});

test('1. first Google sign-up: token, exact role look-up, assignment, roles claim', async () => {
  const { emu, runner, origin, client } = await start();
  const r = await runner.login(USERS.ada);
  assert.equal(r.threw, null);
  assert.deepEqual(routes(r), ['POST /oauth/token', 'GET /api/v2/roles', 'POST /api/v2/users/{id}/roles']);
  const [tokenReq, rolesReq, assignReq] = r.requests;
  assert.deepEqual(tokenReq.body, {
    grant_type: 'client_credentials',
    client_id: client.client_id,
    client_secret: client.client_secret,
    audience: `${origin}/api/v2/`,
  });
  const q = new URL(rolesReq.path, origin).searchParams;
  assert.equal(q.get('name_filter'), 'Premium User');
  // The fixture lists "Premium User (Legacy)" first: only the exact name may be picked.
  assert.equal(assignReq.path, '/api/v2/users/google-oauth2%7C101234567890123456789/roles');
  assert.deepEqual(assignReq.body, { roles: [PREMIUM] });
  assert.equal(assignReq.status, 204);
  assert.deepEqual(emu.users.get(USERS.ada).roles, [PREMIUM]);
  assert.deepEqual(r.idClaims[CLAIM], ['Premium User']);
  assert.deepEqual(r.accessClaims[CLAIM], ['Premium User']);
  assert.equal(r.denied, false);
  assert.equal(r.logs.length, 1);
  assert.match(r.logs[0], /^provision ok: policy=[0-9a-f]{8} user=google-oauth2\|101234567890123456789 assigned=Premium User rules=premium-for-google requests=3$/);
});

test('1. role ids are found by exact name across pages of name_filter results', async () => {
  const fixture = JSON.parse(JSON.stringify(FIXTURE));
  const decoys = Array.from({ length: 150 }, (_, i) => ({ id: `rol_decoy${String(i).padStart(4, '0')}`, name: `Premium User ${i}`, description: 'decoy' }));
  const real = fixture.roles.find((x) => x.id === PREMIUM);
  fixture.roles = [...decoys, { id: 'rol_upper', name: 'PREMIUM USER', description: 'case decoy' }, real];
  const { emu, runner } = await start({ fixture });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), ['POST /oauth/token', 'GET /api/v2/roles', 'GET /api/v2/roles', 'POST /api/v2/users/{id}/roles']);
  assert.match(r.requests[1].path, /[?&]page=0(&|$)/);
  assert.match(r.requests[2].path, /[?&]page=1(&|$)/);
  assert.deepEqual(emu.users.get(USERS.ada).roles, [PREMIUM]);
});

test('2. warm process: the second Google sign-up costs exactly one request', async () => {
  const { runner } = await start();
  await runner.login(USERS.ada);
  const r = await runner.login(USERS.grace);
  assert.deepEqual(routes(r), ['POST /api/v2/users/{id}/roles']);
  assert.deepEqual(r.outcome.assigned, ['Premium User']);
});

test('2. api.cache holds the token and role id within Auth0 limits; a fresh process reuses them', async () => {
  const { emu, runner } = await start();
  const before = Date.now();
  await runner.login(USERS.ada);
  const cache = runner.caches['post-login'];
  const entries = [...cache.entries];
  assert.ok(entries.length >= 2, 'token and role id cached');
  for (const [k, rec] of entries) {
    assert.ok(Buffer.byteLength(k) <= 64, `key ${k} over 64 bytes`);
    assert.ok(Buffer.byteLength(rec.value) <= 4096);
    assert.equal(typeof cache.get(k).expires_at, 'number');
  }
  const tokenEntry = entries.find(([, rec]) => emu.tokens.has(rec.value));
  assert.ok(tokenEntry, 'the issued token is in api.cache');
  const lifetimeMs = emu.tokenLifetime * 1000;
  assert.ok(tokenEntry[1].expires_at < before + lifetimeMs, 'cached below the token lifetime (ms ttl, not seconds)');
  assert.ok(tokenEntry[1].expires_at > before + lifetimeMs / 2, 'but for most of it');
  assert.ok(entries.some(([, rec]) => rec.value === PREMIUM), 'role id cached');

  runner.newProcess(); // cold container, same api.cache
  const r = await runner.login(USERS.grace);
  assert.deepEqual(routes(r), ['POST /api/v2/users/{id}/roles']);

  runner.newProcess();
  runner.clearCache(); // cold container, api.cache lost (best effort)
  const r2 = await runner.login(USERS.barbara);
  assert.deepEqual(routes(r2), ['POST /oauth/token', 'GET /api/v2/roles', 'POST /api/v2/users/{id}/roles']);
});

test('2. concurrent cold sign-ups share one token request', async () => {
  const { emu, runner } = await start();
  const results = await Promise.all([USERS.ada, USERS.grace, USERS.barbara].map((u) => runner.login(u)));
  assert.ok(results.every((r) => r.outcome.error === null));
  assert.equal(emu.count('POST /oauth/token'), 1);
  for (const u of [USERS.ada, USERS.grace, USERS.barbara]) assert.deepEqual(emu.users.get(u).roles, [PREMIUM]);
});

test('3. zero requests for a user who already holds the role, and for a database sign-up', async () => {
  const { runner } = await start();
  const alan = await runner.login(USERS.alan);
  assert.deepEqual(routes(alan), []);
  assert.deepEqual(alan.idClaims[CLAIM], ['Premium User']);
  assert.deepEqual(alan.logs, []);
  const dennis = await runner.login(USERS.dennis);
  assert.deepEqual(routes(dennis), []);
  assert.deepEqual(dennis.outcome.matched, []);
  assert.deepEqual(dennis.idClaims[CLAIM], []);
  // post-user-registration for the database user: nothing matches, nothing sent.
  const reg = await runner.register(USERS.dennis);
  assert.deepEqual(routes(reg), []);
});

test('4. a failed assignment is logged, allowed, and completed at the next login', async () => {
  // first_login: the rule only matches logins_count == 1, yet the failure must not be lost.
  const policy = { ...SEED_POLICY, rules: [{ ...SEED_POLICY.rules[0], when: { provider: 'google-oauth2', first_login: true } }] };
  const { emu, runner } = await start({ policy });
  emu.injectFault({ method: 'POST', path: '/api/v2/users/', status: 503, times: Infinity });
  const r = await runner.login(USERS.ada);
  assert.equal(r.threw, null);
  assert.equal(r.denied, false);
  assert.equal(r.logs.length, 1);
  assert.match(r.logs[0], /^provision error: policy=[0-9a-f]{8} user=google-oauth2\|101234567890123456789 on_error=allow \(retried next login\): POST \/api\/v2\/users\/\{id\}\/roles failed: HTTP 503.*; rules=premium-for-google$/);
  assert.deepEqual(r.idClaims[CLAIM], [], 'the claim only lists roles actually held');
  assert.deepEqual(emu.users.get(USERS.ada).app_metadata.provisioning_pending, ['premium-for-google']);
  assert.deepEqual(emu.users.get(USERS.ada).roles, []);

  emu.clearFaults();
  const next = await runner.login(USERS.ada); // logins_count is now 2
  assert.deepEqual(routes(next), ['POST /api/v2/users/{id}/roles']);
  assert.deepEqual(emu.users.get(USERS.ada).roles, [PREMIUM]);
  assert.equal(emu.users.get(USERS.ada).app_metadata.provisioning_pending, undefined, 'pending marker cleared');
  assert.deepEqual(next.idClaims[CLAIM], ['Premium User']);

  const third = await runner.login(USERS.ada);
  assert.deepEqual(routes(third), []);
  assert.deepEqual(third.outcome.matched, []);
});

test('4. on_error deny denies the login with a short reason', async () => {
  const { emu, runner } = await start({ policy: { ...SEED_POLICY, on_error: 'deny' } });
  emu.injectFault({ path: '/api/v2/roles', status: 500, times: Infinity });
  const r = await runner.login(USERS.ada);
  assert.equal(r.threw, null);
  assert.equal(r.denied, true);
  assert.equal(r.denyReason, 'Access could not be provisioned. Please try again later.');
  assert.match(r.logs[0], /on_error=deny.*GET \/api\/v2\/roles failed: HTTP 500/);
});

test('4. wrong client credentials: one clear line, no secret, login allowed', async () => {
  const { runner } = await start({ secrets: { AUTH0_CLIENT_SECRET: 'wrong-secret-value-123' } });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), ['POST /oauth/token']);
  assert.equal(r.logs.length, 1);
  assert.match(r.logs[0], /POST \/oauth\/token failed: HTTP 401 access_denied \(Unauthorized\)/);
  assert.ok(!r.logs[0].includes('wrong-secret-value-123'));
  assert.equal(r.denied, false);
});

test('4. a missing scope (403) and an unknown role name are clear errors', async () => {
  const fixture = JSON.parse(JSON.stringify(FIXTURE));
  fixture.clients[0].scopes = ['read:roles'];
  const { runner } = await start({ fixture });
  const r = await runner.login(USERS.ada);
  assert.match(r.logs[0], /POST \/api\/v2\/users\/\{id\}\/roles failed: HTTP 403 insufficient_scope/);

  const t2 = await start({ policy: { rules: [{ name: 'vip', assign_roles: ['No Such Role'] }] } });
  const r2 = await t2.runner.login(USERS.ada);
  assert.match(r2.logs[0], /no role is named exactly "No Such Role".*; rules=vip/);
});

test('invalid policy: the error names the bad field and follows on_error', async () => {
  const { runner } = await start({ policy: { on_error: 'deny', rules: [{ name: 'x', when: { provder: 'google-oauth2' }, assign_roles: ['Premium User'] }] } });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), []);
  assert.equal(r.denied, true);
  assert.match(r.logs[0], /invalid policy: rules\[0\]\.when\.provder: unknown key/);

  const t2 = await start({ policy: '{"rules": [' });
  const r2 = await t2.runner.login(USERS.ada);
  assert.equal(r2.denied, false);
  assert.match(r2.logs[0], /invalid policy: \$: the POLICY secret is not valid JSON/);
});

test('configuration errors name the secret; http is refused for non-loopback hosts', async () => {
  const { runner } = await start({ secrets: { AUTH0_DOMAIN: 'http://tenant.example.com' } });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), []);
  assert.match(r.logs[0], /config: secret AUTH0_DOMAIN http:\/\/ is only allowed for loopback hosts/);
  const t2 = await start({ secrets: { AUTH0_CLIENT_ID: '' } });
  const r2 = await t2.runner.login(USERS.ada);
  assert.match(r2.logs[0], /config: secret AUTH0_CLIENT_ID is missing/);
});

test('malformed events never throw out of the Action', async () => {
  const { runner } = await start();
  const api = { access: { deny() {} }, idToken: { setCustomClaim() {} }, accessToken: { setCustomClaim() {} }, user: { setAppMetadata() {} }, cache: runner.caches['post-login'] };
  for (const event of [null, 42, {}, { user: { user_id: 7 } }, { user: { user_id: 'x' }, authorization: { roles: 'Admin' } }, { secrets: { POLICY: '{}' } }]) {
    const out = await runner.action.onExecutePostLogin(event, api);
    assert.equal(typeof out.error, 'string', JSON.stringify(event));
  }
  const ok = await runner.login(USERS.alan); // the instance still works
  assert.equal(ok.outcome.error, null);
});

test('the Action file requires only Node built-ins and fits the size budget', () => {
  const fs = require('node:fs');
  const code = fs.readFileSync(require('./helpers.js').ACTION, 'utf8');
  const requires = [...code.matchAll(/require\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]);
  assert.ok(requires.length > 0);
  for (const r of requires) assert.ok(require('node:module').isBuiltin(r), `non-builtin require: ${r}`);
  assert.ok(Buffer.byteLength(code) <= 100 * 1000, 'within Auth0\'s 100 kB limit');
  // Security reviews of Actions flag dynamic code: none in the shipped file (the glue included).
  assert.ok(!/\beval\s*\(|\bnew\s+Function\b|\bFunction\s*\(/.test(code), 'no eval or new Function');
});

test('a policy baked in with --policy works without the POLICY secret; the secret overrides it', async () => {
  const path = require('node:path');
  const baked = path.join(require('./helpers.js').ROOT, 'target/baked/action.js');
  const { emu, runner } = await start({ policy: null, actionPath: baked });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(r.outcome.assigned, ['Premium User']);
  assert.deepEqual(r.idClaims[CLAIM], ['Premium User']);
  const override = { rules: [{ name: 'admins', when: { provider: 'google-oauth2' }, assign_roles: ['Admin'] }] };
  const r2 = await runner.login(USERS.grace, { secrets: { POLICY: JSON.stringify(override) } });
  assert.deepEqual(r2.outcome.assigned, ['Admin']);
  assert.deepEqual(r2.idClaims, {}, 'the override has no claims_namespace');
  assert.deepEqual(emu.roleNames(USERS.grace), ['Admin']);
  // dist/action.js has no baked policy: without the secret it is a clear error.
  const t = await start({ policy: null });
  const r3 = await t.runner.login(USERS.ada);
  assert.match(r3.logs[0], /invalid policy: \$: no policy: set the POLICY secret or build with --policy FILE/);
});

test('a changed POLICY secret applies at the very next login of a warm container (long texts of one length)', async () => {
  // The Action keeps the last policy parsed and matches it by the event reader's record of the
  // POLICY string (no text comparison): texts of the same length that differ, alternating, with
  // a long metadata string read after them, must each be parsed and applied.
  const { emu, runner } = await start();
  const policy = (name) => JSON.stringify({ ...SEED_POLICY, rules: [{ ...SEED_POLICY.rules[0], name }] }, null, 40);
  const [a, b] = [policy('rule-aaaa'), policy('rule-bbbb')];
  assert.equal(a.length, b.length);
  assert.ok(a.length >= 256, 'long enough to be kept by identity');
  emu.users.get(USERS.alan).user_metadata = { note: 'x'.repeat(300) };
  for (const [text, rule] of [[a, 'rule-aaaa'], [b, 'rule-bbbb'], [b, 'rule-bbbb'], [a, 'rule-aaaa'], [b.slice(0), 'rule-bbbb']]) {
    const r = await runner.login(USERS.alan, { secrets: { POLICY: text } });
    assert.equal(r.threw, null);
    assert.deepEqual(r.outcome.matched, [rule]);
  }
});
