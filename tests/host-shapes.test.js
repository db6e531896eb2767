'use strict';
// Hosts that differ from Auth0's documented shapes in ways seen in practice: an event without
// `authorization` (removals can no longer be known to be unnecessary) and an api.cache whose
// get returns the bare value (some local Actions test harnesses) instead of {value, expires_at}.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { tenant, routes, USERS, SEED_POLICY } = require('./helpers.js');

const tenants = [];
after(() => Promise.all(tenants.map((t) => t.stop())));
async function start(opts) {
  const t = await tenant(opts);
  tenants.push(t);
  return t;
}

test('remove_roles without event.authorization still removes the role', async () => {
  const policy = { rules: [{ name: 'no-premium', when: {}, remove_roles: ['Premium User'] }] };
  const { emu, runner } = await start({ policy });
  assert.deepEqual(emu.users.get(USERS.alan).roles, ['rol_premium0000001']);
  const r = await runner.login(USERS.alan, { edit: (ev) => { delete ev.authorization; } });
  assert.equal(r.outcome.error, null, r.logs.join('\n'));
  assert.deepEqual(routes(r), ['POST /oauth/token', 'GET /api/v2/roles', 'DELETE /api/v2/users/{id}/roles']);
  assert.deepEqual(emu.users.get(USERS.alan).roles, []);
  // With authorization present and the role gone, nothing is sent.
  const again = await runner.login(USERS.alan);
  assert.deepEqual(routes(again), []);
});

test('an api.cache that returns bare values is read as well as Auth0 records', async () => {
  const { emu, runner } = await start({ policy: SEED_POLICY });
  const store = new Map();
  runner.caches['post-login'] = {
    get: (k) => store.get(k),
    set: (k, v) => { store.set(k, v); return { type: 'success' }; },
    delete: (k) => { store.delete(k); return { type: 'success' }; },
  };
  const first = await runner.login(USERS.ada);
  assert.deepEqual(routes(first), ['POST /oauth/token', 'GET /api/v2/roles', 'POST /api/v2/users/{id}/roles']);
  runner.newProcess(); // a cold container: only the cache knows the token and the role id
  const second = await runner.login(USERS.grace);
  assert.deepEqual(routes(second), ['POST /api/v2/users/{id}/roles'], 'token and role id came from the bare cache');
  assert.equal(emu.count('POST /oauth/token'), 1);
});

test('a secret still holding a Deploy CLI ##KEYWORD## is a configuration error naming the mapping to add', async () => {
  const { emu, runner } = await start({
    policy: { ...SEED_POLICY, on_error: 'deny' },
    secrets: { AUTH0_CLIENT_SECRET: '##PROVISION_CLIENT_SECRET##' },
  });
  const r = await runner.login(USERS.ada);
  assert.equal(r.denied, true, 'on_error: deny applies');
  assert.deepEqual(routes(r), [], 'no request with a placeholder credential');
  assert.match(r.logs[0], /AUTH0_CLIENT_SECRET is an unresolved Deploy CLI keyword: add PROVISION_CLIENT_SECRET to AUTH0_KEYWORD_REPLACE_MAPPINGS/);
  assert.equal(emu.count(), 0);

  const { runner: runner2 } = await start({ policy: '##PROVISION_POLICY##' });
  const p = await runner2.login(USERS.ada);
  assert.match(p.logs[0], /POLICY secret is an unresolved Deploy CLI keyword: add PROVISION_POLICY to/);
  assert.deepEqual(routes(p), []);
});

// The Action's own failure path must not throw again: it runs in a promise callback, where a
// throw would leave the execution unresolved and reject where nobody listens.
test('an api whose members throw when read: the execution ends with an internal-failure error and its on_error line', async () => {
  const action = require('../dist/action.js');
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  const policy = JSON.stringify({ on_error: 'deny', rules: [{ name: 'no', when: {}, deny: 'nope' }] });
  const event = () => ({
    user: { user_id: 'auth0|hostile' }, connection: { name: 'db', strategy: 'auth0' }, stats: { logins_count: 2 },
    secrets: { POLICY: policy, AUTH0_DOMAIN: 'example.auth0.com', AUTH0_CLIENT_ID: 'c', AUTH0_CLIENT_SECRET: 's' },
  });
  const cache = { get() {}, set() { return { type: 'success' }; }, delete() {} };
  const thrown = [
    [new Error('hostile getter'), /internal failure: Error: hostile getter/],
    // A thrown value whose own `name` getter throws.
    [{ get name() { throw new Error('again'); } }, /internal failure: a value that cannot be described was thrown/],
  ];
  const log = console.log;
  try {
    for (const [value, error] of thrown) {
      const lines = [];
      console.log = (l) => lines.push(String(l));
      const api = { cache, get access() { throw value; } };
      const outcome = await Promise.race([
        action.onExecutePostLogin(event(), api),
        new Promise((_, reject) => setTimeout(() => reject(new Error('the execution never ended')), 5000).unref()),
      ]);
      console.log = log;
      assert.match(outcome.error, error);
      assert.equal(outcome.denied, false, 'api.access cannot be read, so it cannot deny');
      assert.ok(lines.some((l) => /^provision error: internal failure on_error=deny: /.test(l)), lines.join('\n'));
    }
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, []);
  } finally {
    console.log = log;
    process.off('unhandledRejection', onUnhandled);
  }
});
