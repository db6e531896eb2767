'use strict';
// The full policy language end to end: every condition and effect through dist/action.js
// against the emulator, in both triggers, and every example policy in pkg-scripts/policies.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tenant, routes, FIXTURE, ROOT } = require('./helpers.js');

const EXAMPLES = path.join(ROOT, 'pkg-scripts/policies');
const example = (name) => fs.readFileSync(path.join(EXAMPLES, name), 'utf8');
const tenants = [];
after(() => Promise.all(tenants.map((t) => t.stop())));

const DB = 'Username-Password-Authentication';
function fixture() {
  const f = JSON.parse(JSON.stringify(FIXTURE));
  const add = (user_id, extra) => f.users.push({ user_id, email_verified: true, name: user_id, connection: DB, logins_count: 0, roles: [], ...extra });
  add('auth0|eve', { email: 'eve@example.com' });
  add('auth0|mallory', { email: 'mallory@evilexample.com' });
  add('auth0|unverified', { email: 'u@example.org', email_verified: false });
  add('auth0|exempt', { email: 'x@example.org', email_verified: false, app_metadata: { email_check_exempt: true } });
  add('auth0|expired', { email: 'e@example.org', roles: ['rol_premium0000001'], app_metadata: { plan: 'expired' } });
  add('auth0|admin', { email: 'root@example.org', roles: ['rol_admin00000001'], app_metadata: { plan: 'pro' } });
  add('auth0|newbie', { email: 'n@example.org' });
  add('auth0|invited', { email: 'i@example.org', app_metadata: { invited_by: 'auth0|admin' } });
  add('email|pwless', { email: 'p@example.org', connection: 'email' });
  add('google-oauth2|beta', { email: 'b@gmail.com', connection: 'google-oauth2', user_metadata: { beta: true } });
  return f;
}

async function start(policy, opts = {}) {
  const t = await tenant({ fixture: fixture(), policy, ...opts });
  tenants.push(t);
  return t;
}

test('example employees-by-email-domain: role + permission once, and no repeat across triggers', async () => {
  const { emu, runner } = await start(example('employees-by-email-domain.json'));
  const r = await runner.login('auth0|eve');
  assert.deepEqual(routes(r), ['POST /oauth/token', 'GET /api/v2/roles', 'POST /api/v2/users/{id}/roles', 'POST /api/v2/users/{id}/permissions']);
  assert.deepEqual(r.requests[3].body, { permissions: [{ resource_server_identifier: 'https://api.example.com/', permission_name: 'read:reports' }] });
  assert.equal(r.requests[3].status, 201);
  assert.deepEqual(emu.roleNames('auth0|eve'), ['Employee']);
  assert.deepEqual(r.idClaims['https://example.com/roles'], ['Employee']);
  assert.deepEqual(emu.users.get('auth0|eve').app_metadata.provisioning_done, ['employees']);
  assert.match(r.logs[0], /assigned=Employee did=permissions rules=employees requests=4/);
  const again = await runner.login('auth0|eve');
  assert.deepEqual(routes(again), [], 'role held, permission marked done');
  const evil = await runner.login('auth0|mallory');
  assert.deepEqual(evil.outcome.matched, [], 'evilexample.com is not example.com');

  // Both triggers: post-user-registration does the work, the first login finds it done.
  const t2 = await start(example('employees-by-email-domain.json'));
  const reg = await t2.runner.register('auth0|eve');
  assert.deepEqual(routes(reg), ['POST /oauth/token', 'GET /api/v2/roles', 'POST /api/v2/users/{id}/roles', 'POST /api/v2/users/{id}/permissions', 'PATCH /api/v2/users/{id}']);
  assert.deepEqual(reg.requests[4].body, { app_metadata: { provisioning_done: ['employees'] } });
  const first = await t2.runner.login('auth0|eve');
  assert.deepEqual(routes(first), []);
  assert.deepEqual(t2.emu.users.get('auth0|eve').permissions.length, 1);
});

test('example trial-on-signup: post-user-registration roles, metadata via PATCH, invite ticket stored', async () => {
  const { emu, runner } = await start(example('trial-on-signup.json'));
  const r = await runner.register('auth0|newbie');
  assert.deepEqual(routes(r), ['POST /oauth/token', 'GET /api/v2/roles', 'POST /api/v2/users/{id}/roles', 'PATCH /api/v2/users/{id}']);
  assert.deepEqual(r.requests[3].body, { app_metadata: { plan: 'trial' } });
  assert.deepEqual(emu.roleNames('auth0|newbie'), ['Trial User']);
  assert.equal(emu.users.get('auth0|newbie').app_metadata.plan, 'trial');

  const inv = await runner.register('auth0|invited');
  assert.deepEqual(routes(inv), ['POST /api/v2/users/{id}/roles', 'POST /api/v2/tickets/password-change', 'PATCH /api/v2/users/{id}']);
  assert.deepEqual(inv.requests[1].body, { user_id: 'auth0|invited', result_url: 'https://app.example.com/welcome', ttl_sec: 604800 });
  const meta = emu.users.get('auth0|invited').app_metadata;
  assert.match(meta.invite_url, /\/lo\/reset\?ticket=/);
  assert.deepEqual(meta.provisioning_done, ['invite-link']);
  assert.ok(!inv.logs.join('\n').includes(meta.invite_url), 'a stored ticket URL is not logged');

  const pw = await runner.register('email|pwless');
  assert.deepEqual(emu.roleNames('email|pwless'), ['Trial User']);
  assert.equal(pw.outcome.error, null);
  const login = await runner.login('auth0|newbie');
  assert.deepEqual(routes(login), [], 'post-user-registration rules do not run at login');
});

test('example mfa-and-plan-claims: MFA for admins, plan claim from metadata, refresh tokens stop early', async () => {
  const { runner, emu } = await start(example('mfa-and-plan-claims.json'));
  const r = await runner.login('auth0|admin');
  assert.deepEqual(r.mfa, { provider: 'any', opts: { allowRememberBrowser: false } });
  assert.equal(r.idClaims['https://example.com/plan'], 'pro');
  assert.equal(r.accessClaims['https://example.com/plan'], 'pro');
  assert.deepEqual(r.idClaims['https://example.com/roles'], ['Admin']);
  assert.deepEqual(routes(r), []);
  const refresh = await runner.login('auth0|admin', { protocol: 'oauth2-refresh-token' });
  assert.equal(refresh.mfa, null, 'stop: later rules not evaluated');
  assert.deepEqual(refresh.outcome.matched, ['skip-refresh']);
  assert.equal(emu.users.get('auth0|admin').user_metadata.last_refresh_seen, true, 'user_metadata set through api.user');
  const plain = await runner.login('auth0|newbie');
  assert.equal(plain.mfa, null);
  assert.equal(plain.idClaims['https://example.com/plan'], undefined);
});

test('example block-unverified-database-logins: deny, exemption, role removal', async () => {
  const { emu, runner } = await start(example('block-unverified-database-logins.json'));
  const denied = await runner.login('auth0|unverified');
  assert.equal(denied.denied, true);
  assert.equal(denied.denyReason, 'Please verify your email address before signing in.');
  assert.deepEqual(routes(denied), []);
  const exempt = await runner.login('auth0|exempt');
  assert.equal(exempt.denied, false);
  const expired = await runner.login('auth0|expired');
  assert.deepEqual(routes(expired), ['POST /oauth/token', 'GET /api/v2/roles', 'DELETE /api/v2/users/{id}/roles']);
  assert.deepEqual(expired.requests[2].body, { roles: ['rol_premium0000001'] });
  assert.deepEqual(emu.roleNames('auth0|expired'), []);
  assert.match(expired.logs[0], /removed=Premium User/);
  const again = await runner.login('auth0|expired');
  assert.deepEqual(routes(again), [], 'nothing to remove any more');
});

test('organization, client_id, user_metadata, lacks_role and not conditions', async () => {
  const policy = {
    claims_namespace: 'https://example.com/',
    rules: [
      { name: 'acme', when: { trigger: 'post-login', organization: 'acme', client_id: 'web-app-client' }, claims: { org: 'acme' } },
      { name: 'beta', when: { trigger: 'post-login', user_metadata: { beta: true }, lacks_role: 'Admin', not: { provider: 'auth0' } }, claims: { beta: true } },
    ],
  };
  const { runner } = await start(policy);
  const inOrg = await runner.login('auth0|newbie', { organization: { id: 'org_1', name: 'acme' } });
  assert.equal(inOrg.idClaims['https://example.com/org'], 'acme');
  const noOrg = await runner.login('auth0|newbie');
  assert.equal(noOrg.idClaims['https://example.com/org'], undefined);
  const otherApp = await runner.login('auth0|newbie', { organization: { id: 'org_1', name: 'acme' }, clientId: 'other-app' });
  assert.equal(otherApp.idClaims['https://example.com/org'], undefined);
  const beta = await runner.login('google-oauth2|beta');
  assert.equal(beta.idClaims['https://example.com/beta'], true);
  assert.deepEqual(routes(beta), []);
});

test('an MFA enrollment ticket stored in the log goes to the log, never to a token', async () => {
  const policy = { claims_namespace: 'https://example.com/', rules: [{ name: 'enroll', when: { trigger: 'post-login', has_role: 'Admin' }, mfa_enrollment_ticket: { store: 'log' } }] };
  const { runner } = await start(policy);
  const r = await runner.login('auth0|admin');
  assert.deepEqual(routes(r), ['POST /oauth/token', 'POST /api/v2/guardian/enrollments/ticket']);
  assert.deepEqual(r.requests[1].body, { user_id: 'auth0|admin', send_mail: false });
  const line = r.logs.find((l) => l.startsWith('provision ticket '));
  assert.match(line, /^provision ticket url=http:\/\/127\.0\.0\.1:\d+\/guardian\/enroll\?ticket=[0-9a-f]+ user=auth0\|admin rule=enroll$/);
  assert.ok(!JSON.stringify([r.idClaims, r.accessClaims]).includes('ticket'));
  const again = await runner.login('auth0|admin');
  assert.deepEqual(routes(again), [], 'done once');
});

test('a failed effect is pending and completed at the next login; effects impossible in a trigger are policy errors', async () => {
  const { emu, runner } = await start(example('employees-by-email-domain.json'));
  emu.injectFault({ method: 'POST', path: /\/permissions$/, status: 403, times: 1, body: { statusCode: 403, error: 'Forbidden', message: 'Insufficient scope, expected any of: update:users', errorCode: 'insufficient_scope' } });
  const r = await runner.login('auth0|eve');
  assert.match(r.logs[0], /POST \/api\/v2\/users\/\{id\}\/permissions failed: HTTP 403 insufficient_scope/);
  assert.deepEqual(emu.users.get('auth0|eve').app_metadata.provisioning_pending, ['employees']);
  const next = await runner.login('auth0|eve');
  assert.deepEqual(routes(next), ['POST /api/v2/users/{id}/permissions']);
  const meta = emu.users.get('auth0|eve').app_metadata;
  assert.equal(meta.provisioning_pending, undefined);
  assert.deepEqual(meta.provisioning_done, ['employees']);

  const t2 = await start({ rules: [{ name: 'no', deny: 'x' }] });
  const bad = await t2.runner.login('auth0|eve');
  assert.match(bad.logs[0], /invalid policy: rules\[0\]\.deny: deny is impossible in post-user-registration; add "trigger": "post-login"/);
});

test('post-login metadata goes through api.user (persisted after the execution) and claims see the new value', async () => {
  const policy = {
    claims_namespace: 'https://example.com/',
    rules: [{ name: 'plan', when: { trigger: 'post-login', first_login: true }, set_app_metadata: { plan: 'starter', legacy: null }, set_user_metadata: { theme: 'dark' }, claims: { plan: { from: 'app_metadata.plan' } } }],
  };
  const { emu, runner } = await start(policy);
  emu.users.get('auth0|newbie').app_metadata = { legacy: true };
  const r = await runner.login('auth0|newbie');
  assert.deepEqual(routes(r), [], 'no Management API request: api.user does it');
  assert.deepEqual(r.appMetadata, { plan: 'starter', legacy: null });
  assert.deepEqual(r.userMetadata, { theme: 'dark' });
  assert.equal(r.idClaims['https://example.com/plan'], 'starter');
  assert.deepEqual(emu.users.get('auth0|newbie').app_metadata, { plan: 'starter' });
  assert.equal(emu.users.get('auth0|newbie').user_metadata.theme, 'dark');
  const second = await runner.login('auth0|newbie');
  assert.deepEqual(second.appMetadata, {}, 'first_login no longer holds: nothing written');
});

test('a registration-only rule that fails at sign-up is completed at the next login', async () => {
  const { emu, runner } = await start(example('trial-on-signup.json'));
  emu.injectFault({ method: 'POST', path: /\/roles$/, status: 503, times: 4 });
  const reg = await runner.register('auth0|newbie');
  assert.match(reg.logs[0], /on_error=allow \(retried next login\)/);
  assert.deepEqual(emu.users.get('auth0|newbie').app_metadata.provisioning_pending, ['trial-for-new-accounts']);
  assert.equal(emu.users.get('auth0|newbie').app_metadata.plan, 'trial', 'the PATCH carried the metadata and the marker');
  const login = await runner.login('auth0|newbie');
  assert.deepEqual(login.outcome.matched, ['trial-for-new-accounts']);
  assert.deepEqual(emu.roleNames('auth0|newbie'), ['Trial User']);
  assert.equal(emu.users.get('auth0|newbie').app_metadata.provisioning_pending, undefined);
});

test('a pending marker survives executions in which its rule does not run', async () => {
  const policy = {
    rules: [
      { name: 'skip-refresh', when: { protocol: 'oauth2-refresh-token' }, set_user_metadata: { refreshed: true }, stop: true },
      { name: 'premium', when: { provider: 'google-oauth2', first_login: true }, assign_roles: ['Premium User'] },
    ],
  };
  const { emu, runner } = await start(policy);
  emu.injectFault({ method: 'POST', path: /\/roles$/, status: 503, times: 4 });
  await runner.login('google-oauth2|beta');
  assert.deepEqual(emu.users.get('google-oauth2|beta').app_metadata.provisioning_pending, ['premium']);
  await runner.login('google-oauth2|beta', { protocol: 'oauth2-refresh-token' }); // stops before "premium"
  assert.deepEqual(emu.users.get('google-oauth2|beta').app_metadata.provisioning_pending, ['premium'], 'not cleared by a run that skipped the rule');
  const next = await runner.login('google-oauth2|beta');
  assert.deepEqual(routes(next), ['POST /api/v2/users/{id}/roles']);
  assert.equal(emu.users.get('google-oauth2|beta').app_metadata.provisioning_pending, undefined);
});

test('a rule is done only when all its once-only effects succeeded', async () => {
  const policy = { rules: [{ name: 'onboard', when: { trigger: 'post-login' }, assign_permissions: [{ resource_server_identifier: 'https://api.example.com/', permission_name: 'read:reports' }], password_reset_ticket: { store: 'app_metadata.invite_url' } }] };
  const { emu, runner } = await start(policy);
  emu.injectFault({ path: '/api/v2/tickets/', status: 503, times: 4 });
  const r = await runner.login('auth0|newbie');
  assert.match(r.logs[0], /POST \/api\/v2\/tickets\/password-change failed: HTTP 503/);
  const meta = emu.users.get('auth0|newbie').app_metadata;
  assert.deepEqual(meta.provisioning_pending, ['onboard']);
  assert.equal(meta.provisioning_done, undefined, 'not done: the ticket failed');
  const next = await runner.login('auth0|newbie');
  // The permission grant that succeeded is remembered by this container, not sent again.
  assert.deepEqual(routes(next), ['POST /api/v2/tickets/password-change']);
  assert.equal(emu.count('POST /api/v2/users/{id}/permissions'), 1);
  const after = emu.users.get('auth0|newbie').app_metadata;
  assert.match(after.invite_url, /\/lo\/reset\?ticket=/);
  assert.deepEqual(after.provisioning_done, ['onboard']);
  assert.equal(after.provisioning_pending, undefined);
});
