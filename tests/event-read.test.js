'use strict';
// An event that cannot be read in full (too deep, too large, cyclic, throwing getters,
// hostile proxies) must never weaken the policy: the Action reads only what the core uses,
// secrets first, and cuts an unreadable metadata value where it is (conditions on it are
// unknown: a grant does not match, a deny rule denies).
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

function nested(depth, leaf = 'x') {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { n: v };
  return v;
}

const DENY_BLOCKED = {
  ...SEED_POLICY,
  rules: [
    { name: 'block', when: { trigger: 'post-login', user_metadata: { blocked: true } }, deny: 'blocked' },
    ...SEED_POLICY.rules,
  ],
};

test('depth 300 in user_metadata: the deny rule still denies', async () => {
  const { emu, runner } = await start({ policy: DENY_BLOCKED });
  emu.users.get(USERS.ada).user_metadata = { blocked: true, deep: nested(300) };
  const r = await runner.login(USERS.ada);
  assert.equal(r.denied, true, JSON.stringify(r.outcome));
  assert.equal(r.denyReason, 'blocked');
  assert.deepEqual(routes(r), [], 'a denied login provisions nothing');
});

test('depth 300 in app_metadata: the Google grant still applies', async () => {
  const { emu, runner } = await start();
  emu.users.get(USERS.ada).app_metadata = { deep: nested(300) };
  const r = await runner.login(USERS.ada);
  assert.equal(r.outcome.error, null);
  assert.deepEqual(r.outcome.assigned, ['Premium User']);
  assert.deepEqual(emu.users.get(USERS.ada).roles, ['rol_premium0000001']);
});

test('a condition on a cut path fails closed: no grant, deny denies, not does not flip it', async () => {
  const policy = {
    ...SEED_POLICY,
    rules: [
      { name: 'grant-on-deep', when: { user_metadata: { 'deep.n.n': { exists: true } } }, assign_roles: ['Premium User'] },
      { name: 'grant-unless-deep', when: { not: { user_metadata: { 'deep.n': { exists: true } } } }, assign_roles: ['Premium User'] },
      { name: 'deny-unless-trusted', when: { trigger: 'post-login', not: { user_metadata: { 'deep.n.n': 'trusted' } } }, deny: 'not trusted' },
    ],
  };
  const { emu, runner } = await start({ policy });
  emu.users.get(USERS.ada).user_metadata = { deep: nested(300) };
  const r = await runner.login(USERS.ada);
  assert.equal(r.denied, true);
  assert.equal(r.denyReason, 'not trusted');
  assert.deepEqual(emu.users.get(USERS.ada).roles, []);

  // Without the deny rule, neither grant matches on the unreadable value.
  const { emu: emu2, runner: runner2 } = await start({ policy: { ...policy, rules: policy.rules.slice(0, 2) } });
  emu2.users.get(USERS.ada).user_metadata = { deep: nested(300) };
  const r2 = await runner2.login(USERS.ada);
  assert.equal(r2.denied, false);
  assert.equal(r2.outcome.error, null);
  assert.deepEqual(r2.outcome.matched, []);
  assert.deepEqual(routes(r2), []);
});

test('parts the core does not read cannot break the event: request, profileData, cycles', async () => {
  const { emu, runner } = await start({ policy: DENY_BLOCKED });
  emu.users.get(USERS.ada).user_metadata = { blocked: true };
  const r = await runner.login(USERS.ada, {
    edit(ev) {
      ev.request.body = nested(500);
      ev.request.query = nested(500);
      ev.user.identities[0].profileData = nested(500);
      const cyclic = { blocked: true };
      cyclic.self = cyclic;
      ev.user.user_metadata = cyclic;
      Object.defineProperty(ev.request, 'geoip', { enumerable: true, get() { throw new Error('boom'); } });
    },
  });
  assert.equal(r.threw, null);
  assert.equal(r.denied, true);
  assert.equal(r.denyReason, 'blocked');
});

test('a throwing getter or proxy inside metadata is cut where it is', async () => {
  const { runner } = await start({ policy: DENY_BLOCKED });
  const r = await runner.login(USERS.ada, {
    edit(ev) {
      const meta = { blocked: true };
      Object.defineProperty(meta, 'trap', { enumerable: true, get() { throw new Error('getter'); } });
      meta.proxy = new Proxy({}, { ownKeys() { throw new Error('ownKeys'); } });
      const revocable = Proxy.revocable({}, {});
      revocable.revoke();
      meta.revoked = revocable.proxy;
      ev.user.user_metadata = meta;
    },
  });
  assert.equal(r.threw, null);
  assert.equal(r.denied, true, JSON.stringify(r.outcome));
  assert.equal(r.denyReason, 'blocked');
});

test('an unreadable field outside metadata is an event error under the policy\'s own on_error', async () => {
  const { runner } = await start({ policy: { ...DENY_BLOCKED, on_error: 'deny' } });
  const r = await runner.login(USERS.ada, {
    edit(ev) {
      Object.defineProperty(ev.user, 'email', { enumerable: true, get() { throw new Error('nope'); } });
    },
  });
  assert.equal(r.threw, null);
  assert.equal(r.denied, true);
  assert.match(r.outcome.error, /cannot be read at event\.user\.email/);
  assert.match(r.logs.join('\n'), /on_error=deny/);
});

test('huge metadata is cut by the size budget, quickly and without effect on other rules', async () => {
  const { emu, runner } = await start({ policy: DENY_BLOCKED });
  const big = { blocked: true };
  for (let i = 0; i < 60000; i++) big['k' + i] = i;
  emu.users.get(USERS.ada).user_metadata = big;
  const r = await runner.login(USERS.ada);
  assert.equal(r.denied, true, 'the budget cut makes the deny condition unknown: it denies');
  assert.ok(r.ms < 2000, `took ${r.ms} ms`);
});

test('a POLICY secret nested too deeply still applies its own on_error', async () => {
  const policy = { ...SEED_POLICY, on_error: 'deny', rules: [{ ...SEED_POLICY.rules[0], deep: nested(300) }] };
  const { runner } = await start({ policy });
  const r = await runner.login(USERS.ada);
  assert.equal(r.denied, true);
  assert.match(r.outcome.error, /POLICY secret/);
});
