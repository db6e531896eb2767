'use strict';
// One plan, two executors: for every example policy and a set of users, in both triggers,
// the steps `policy explain --json` prints (core::steps, on a cold container, every step
// succeeding) are exactly what the built Action carried out: the emulator's request log and
// the api recorder's calls.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { tenant, ROOT, FIXTURE } = require('./helpers.js');

const POLICY_BIN = path.join(ROOT, 'target/release/policy');
const EXAMPLES = path.join(ROOT, 'pkg-scripts/policies');
const DB = 'Username-Password-Authentication';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-eq-'));
const tenants = [];
after(() => Promise.all(tenants.map((t) => t.stop())));

function fixture() {
  const f = JSON.parse(JSON.stringify(FIXTURE));
  const add = (user_id, extra) => f.users.push({ user_id, email_verified: true, name: user_id, connection: DB, logins_count: 0, roles: [], ...extra });
  add('auth0|eve', { email: 'eve@example.com' });
  add('auth0|unverified', { email: 'u@example.org', email_verified: false });
  add('auth0|expired', { email: 'e@example.org', roles: ['rol_premium0000001'], app_metadata: { plan: 'expired' } });
  add('auth0|admin', { email: 'root@example.org', roles: ['rol_admin00000001'], app_metadata: { plan: 'pro' } });
  add('auth0|invited', { email: 'i@example.org', app_metadata: { invited_by: 'auth0|admin' } });
  add('auth0|owed', { email: 'o@example.org', app_metadata: { provisioning_pending: ['trial-for-new-accounts'] } });
  add('google-oauth2|beta', { email: 'b@gmail.com', connection: 'google-oauth2', user_metadata: { beta: true } });
  return f;
}

/** The api recorder's calls in explain's `[method, ...args]` form, sorted. */
function recorded(r) {
  const calls = [];
  if (r.denyReason) calls.push(['deny', r.denyReason]);
  if (r.mfa) calls.push(['mfa', r.mfa.provider]);
  for (const [k, v] of Object.entries(r.appMetadata || {})) calls.push(['setAppMetadata', k, v]);
  for (const [k, v] of Object.entries(r.userMetadata || {})) calls.push(['setUserMetadata', k, v]);
  assert.deepEqual(r.accessClaims || {}, r.idClaims || {}, 'both tokens get the same claims');
  for (const [k, v] of Object.entries(r.idClaims || {})) calls.push(['setCustomClaim', k, v]);
  return calls.map((c) => JSON.stringify(c)).sort();
}

function explained(policyFile, event, trigger) {
  const file = path.join(tmp, 'event.json');
  fs.writeFileSync(file, JSON.stringify(event));
  const out = execFileSync(POLICY_BIN, ['explain', policyFile, file, '--trigger', trigger, '--json'], { encoding: 'utf8' });
  const { requests, api } = JSON.parse(out);
  return { requests, api: api.map((c) => JSON.stringify(c)).sort() };
}

const policies = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json') && !f.endsWith('.test.json'));
const users = fixture().users.map((u) => u.user_id);

for (const name of policies) {
  test(`explain's steps are what the Action does: ${name}`, async () => {
    const policyFile = path.join(EXAMPLES, name);
    const policy = fs.readFileSync(policyFile, 'utf8');
    let compared = 0;
    let acting = 0;
    for (const trigger of ['post-login', 'post-user-registration']) {
      for (const user of users) {
        // A fresh tenant and container per case: the cold path explain describes.
        const t = await tenant({ fixture: fixture(), policy });
        tenants.push(t);
        let event;
        const edit = (ev) => { event = JSON.parse(JSON.stringify(ev)); };
        const r = trigger === 'post-login' ? await t.runner.login(user, { edit }) : await t.runner.register(user, { edit });
        await t.stop();
        assert.equal(r.outcome.error, null, `${user} ${trigger}: ${r.logs.join('\n')}`);
        const want = explained(policyFile, event, trigger);
        const label = `${name} ${trigger} ${user}`;
        assert.deepEqual(r.requests.map((q) => q.route), want.requests, `${label}: requests`);
        // A ticket URL exists only once the ticket is made: explain shows its place.
        const got = recorded(r).map((c) => c.replace(/"https?:\/\/[^"]*ticket=[^"]*"/g, '"<ticket URL>"'));
        assert.deepEqual(got, want.api, `${label}: api calls`);
        compared++;
        if (want.requests.length || want.api.length) acting++;
      }
    }
    assert.equal(compared, users.length * 2);
    assert.ok(acting > 0, 'the policy does something for at least one case');
  });
}
