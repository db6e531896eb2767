'use strict';
// The fault matrix: one case per way the Management API misbehaves, each with its expected
// outcome (role assigned, or on_error applied), request count, and the run's deadline kept.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { tenant, routes, USERS, FIXTURE } = require('./helpers.js');
const { ActionsRunner } = require('../pkg-scripts/emulator/runner.js');

const PREMIUM = 'rol_premium0000001';
const ASSIGN = 'POST /api/v2/users/{id}/roles';
const ROLES = 'GET /api/v2/roles';
const TOKEN = 'POST /oauth/token';
const tenants = [];

async function start(opts) {
  const t = await tenant(opts);
  tenants.push(t);
  return t;
}

after(async () => {
  const logs = ActionsRunner.allLogs();
  for (const t of tenants) {
    for (const line of logs) {
      assert.ok(!line.includes(t.client.client_secret), `client secret in log: ${line}`);
      for (const tok of t.emu.tokens.keys()) assert.ok(!line.includes(tok), `token in log: ${line}`);
    }
    await t.stop();
  }
});

const epochIn = (ms) => String(Math.ceil((Date.now() + ms) / 1000));

function assigned(emu, user = USERS.ada) {
  return emu.users.get(user).roles.includes(PREMIUM);
}

test('429 with x-ratelimit-reset: waits until the reset, then succeeds', async () => {
  const { emu, runner } = await start();
  emu.injectFault({ path: '/api/v2/users/', status: 429, headers: { 'x-ratelimit-reset': epochIn(1000), 'x-ratelimit-remaining': '0' } });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), [TOKEN, ROLES, ASSIGN, ASSIGN]);
  assert.equal(r.outcome.throttled, 1);
  assert.ok(assigned(emu));
  assert.ok(r.ms >= 250 && r.ms < 2600, `waited for the reset second, not more: ${r.ms}`);
});

test('429 with Retry-After: honours it', async () => {
  const { emu, runner } = await start();
  emu.injectFault({ path: '/api/v2/roles', status: 429, headers: { 'retry-after': '1', 'x-ratelimit-reset': epochIn(60000) } });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), [TOKEN, ROLES, ROLES, ASSIGN]);
  assert.ok(assigned(emu));
  assert.ok(r.ms >= 950 && r.ms < 2500, `Retry-After (1 s) wins over x-ratelimit-reset (60 s): ${r.ms}`);
});

test('429 forever: gives up within the deadline, on_error=allow, pending for next login', async () => {
  const { emu, runner } = await start({ secrets: { TIMEOUT_MS: '3000' } });
  emu.injectFault({ path: '/api/v2/users/', status: 429, times: Infinity, headers: { 'x-ratelimit-reset': epochIn(1000) } });
  const r = await runner.login(USERS.ada);
  assert.ok(r.ms < 3000 + 250, `deadline kept: ${r.ms}`);
  const attempts = routes(r).filter((x) => x === ASSIGN).length;
  assert.ok(attempts >= 2 && attempts <= 4, `bounded retries: ${attempts}`);
  assert.equal(r.denied, false);
  assert.match(r.logs[0], /on_error=allow \(retried next login\): POST \/api\/v2\/users\/\{id\}\/roles failed: HTTP 429 too_many_requests/);
  assert.deepEqual(emu.users.get(USERS.ada).app_metadata.provisioning_pending, ['premium-for-google']);
  emu.clearFaults();
  await runner.login(USERS.ada);
  assert.ok(assigned(emu));
});

test('500, 502, 503 then success: retried with backoff', async () => {
  const { emu, runner } = await start();
  for (const status of [500, 502, 503]) emu.injectFault({ path: '/api/v2/users/', status });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), [TOKEN, ROLES, ASSIGN, ASSIGN, ASSIGN, ASSIGN]);
  assert.deepEqual(r.requests.slice(2).map((q) => q.status), [500, 502, 503, 204]);
  assert.ok(assigned(emu));
  assert.equal(r.outcome.error, null);
});

test('connection refused: retried, then on_error within the deadline', async () => {
  const closed = http.createServer();
  await new Promise((res) => closed.listen(0, '127.0.0.1', res));
  const port = closed.address().port;
  await new Promise((res) => closed.close(res));
  const { runner } = await start({ secrets: { AUTH0_DOMAIN: `http://127.0.0.1:${port}`, TIMEOUT_MS: '2000' } });
  const r = await runner.login(USERS.ada);
  assert.ok(r.ms < 2250, `${r.ms}`);
  assert.match(r.logs[0], /POST \/oauth\/token failed: network error \(TypeError: fetch failed \(.*ECONNREFUSED/);
  assert.equal(r.threw, null);
});

test('a server that never answers: each request times out, the run ends by its deadline', async () => {
  const { emu, runner } = await start({ secrets: { TIMEOUT_MS: '1500' } });
  emu.injectFault({ path: '/oauth/token', mode: 'hang', times: Infinity });
  const r = await runner.login(USERS.ada);
  assert.ok(r.ms >= 1000 && r.ms < 1500 + 250, `${r.ms}`);
  assert.match(r.logs[0], /POST \/oauth\/token timed out/);
});

test('a hanging request times out even when a garbage collection runs while it waits', async () => {
  // Node holds AbortSignal.timeout (and fetch its signal) weakly: an unheld timeout signal can
  // be collected before it fires, and the request then waits for the 16 s watchdog.
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  const { emu, runner } = await start({ secrets: { TIMEOUT_MS: '1500' } });
  emu.injectFault({ path: '/oauth/token', mode: 'hang', times: Infinity });
  for (let i = 0; i < 3; i++) {
    const login = runner.login(USERS.ada);
    await new Promise((r) => setTimeout(r, 300));
    gc();
    const r = await login;
    assert.ok(r.ms < 1500 + 250, `run ${i}: ${r.ms} ms`);
    assert.match(r.logs[0], /POST \/oauth\/token timed out/);
  }
});

test('malformed JSON in a 200 reply: a typed error, no trap, healed next login', async () => {
  const { emu, runner } = await start();
  emu.injectFault({ path: '/api/v2/roles', mode: 'truncated' });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), [TOKEN, ROLES]);
  assert.match(r.logs[0], /GET \/api\/v2\/roles returned a malformed response: body is not valid JSON/);
  const next = await runner.login(USERS.ada);
  assert.deepEqual(routes(next), [ROLES, ASSIGN]);
  assert.ok(assigned(emu));
});

test('an HTML error page (502 from a proxy) is retried like any 5xx', async () => {
  const { emu, runner } = await start();
  emu.injectFault({ path: '/api/v2/roles', mode: 'html', status: 502 });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(r.requests.map((q) => q.status), [200, 502, 200, 204]);
  assert.ok(assigned(emu));
});

test('an HTML error page forever: the log names the status without the page', async () => {
  const { emu, runner } = await start({ secrets: { TIMEOUT_MS: '2000' } });
  emu.injectFault({ path: '/api/v2/roles', mode: 'html', status: 502, times: Infinity });
  const r = await runner.login(USERS.ada);
  assert.match(r.logs[0], /GET \/api\/v2\/roles failed: HTTP 502; rules=premium-for-google$/);
});

test('401 from the Management API: the cached token is dropped (module and api.cache) and refreshed once', async () => {
  const { emu, runner } = await start();
  await runner.login(USERS.alan); // warm nothing: Alan needs no request
  await runner.login(USERS.grace); // caches a token
  const cache = runner.caches['post-login'];
  const oldToken = [...cache.entries.values()].find((r) => emu.tokens.has(r.value)).value;
  emu.tokens.delete(oldToken); // revoked server-side
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), [ASSIGN, TOKEN, ASSIGN]);
  assert.deepEqual(r.requests.map((q) => q.status), [401, 200, 204]);
  assert.ok(assigned(emu));
  const newToken = [...cache.entries.values()].find((x) => emu.tokens.has(x.value));
  assert.ok(newToken && newToken.value !== oldToken, 'api.cache holds the new token');
});

test('401 from the Management API twice: no loop', async () => {
  const { emu, runner } = await start();
  emu.injectFault({ path: '/api/v2/roles', status: 401, times: Infinity, body: { statusCode: 401, error: 'Unauthorized', message: 'Invalid token', errorCode: 'invalid_token' } });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), [TOKEN, ROLES, TOKEN, ROLES]);
  assert.match(r.logs[0], /GET \/api\/v2\/roles failed: HTTP 401 invalid_token/);
});

test('401 on /oauth/token (bad credentials): not retried', async () => {
  const { runner } = await start({ secrets: { AUTH0_CLIENT_SECRET: 'not-the-secret' } });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), [TOKEN]);
  assert.match(r.logs[0], /POST \/oauth\/token failed: HTTP 401 access_denied/);
});

test('403 (missing scope): not retried, clear error', async () => {
  const fixture = JSON.parse(JSON.stringify(FIXTURE));
  fixture.clients[0].scopes = ['read:roles'];
  const { runner } = await start({ fixture });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), [TOKEN, ROLES, ASSIGN]);
  assert.match(r.logs[0], /HTTP 403 insufficient_scope \(Insufficient scope/);
});

test('role not found: one look-up, clear error, on_error', async () => {
  const { runner } = await start({ policy: { on_error: 'deny', rules: [{ name: 'g', when: { provider: 'google-oauth2' }, assign_roles: ['Premium'] }] } });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), [TOKEN, ROLES]);
  assert.equal(r.denied, true);
  assert.match(r.logs[0], /no role is named exactly "Premium"/);
});

test('204 with an empty body and a JSON content type is success; an empty 200 is a typed error', async () => {
  const { emu, runner } = await start();
  const r = await runner.login(USERS.ada);
  assert.equal(r.requests[2].status, 204);
  assert.equal(r.outcome.error, null);
  emu.injectFault({ path: '/api/v2/roles', mode: 'empty', status: 200 });
  runner.newProcess();
  runner.clearCache();
  const r2 = await runner.login(USERS.grace);
  assert.match(r2.logs[0], /GET \/api\/v2\/roles returned a malformed response: empty body/);
});

test('hostile user ids stay one path segment and reach the right user', async () => {
  const fixture = JSON.parse(JSON.stringify(FIXTURE));
  const ids = ['google-oauth2|../../roles', 'google-oauth2|a/b?c=1#d', 'google-oauth2|%2F%2e%2e', 'google-oauth2|ünï🙂 ', 'google-oauth2|..'];
  for (const user_id of ids) fixture.users.push({ user_id, email: 'x@gmail.com', email_verified: true, name: 'Hostile', connection: 'google-oauth2', logins_count: 0, roles: [] });
  const { emu, runner } = await start({ fixture });
  for (const id of ids) {
    const r = await runner.login(id);
    const assign = r.requests.find((q) => q.route === ASSIGN);
    assert.ok(assign, `assignment sent for ${id}`);
    const segment = assign.path.split('/')[4];
    assert.equal(assign.path, `/api/v2/users/${segment}/roles`);
    assert.equal(decodeURIComponent(segment), id);
    assert.deepEqual(emu.users.get(id).roles, [PREMIUM], id);
  }
});

test('a redirect to another origin is never followed', async () => {
  let hits = 0;
  const other = http.createServer((req, res) => { hits++; res.end('{}'); });
  await new Promise((res) => other.listen(0, '127.0.0.1', res));
  try {
    const { emu, runner } = await start({ secrets: { TIMEOUT_MS: '2000' } });
    emu.injectFault({ path: '/oauth/token', status: 302, times: Infinity, headers: { location: `http://127.0.0.1:${other.address().port}/oauth/token` }, body: {} });
    const r = await runner.login(USERS.ada);
    assert.equal(hits, 0, 'nothing sent to the other origin');
    assert.match(r.logs[0], /POST \/oauth\/token failed/);
  } finally {
    other.close();
  }
});
