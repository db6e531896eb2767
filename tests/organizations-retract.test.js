'use strict';
// Retraction of organization access at login, through the built dist/action.js against the
// emulator: a retract rule reads the user's memberships before it joins, records what it
// made with a "+" (app_metadata.provisioning_orgs), and removes exactly that once the rule
// stops matching; a membership the user already had is recorded plain and never removed.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { tenant, routes, FIXTURE, USERS } = require('./helpers.js');
const { organizationsOf } = require('../pkg-scripts/emulator/organizations-store.js');

const ACME = 'org_acme000000000001';
const SCOPES = ['read:organizations', 'create:organization_members', 'create:organization_member_roles',
  'delete:organization_members', 'delete:organization_member_roles'];

const tenants = [];
after(() => Promise.all(tenants.map((t) => t.stop())));

const POLICY = {
  on_error: 'allow',
  rules: [{
    name: 'staff', retract: true, when: { email_domain: 'example.com' },
    join_organization: 'acme', organization_roles: { organization: 'acme', roles: ['Admin'] },
  }],
};

async function start() {
  const fixture = structuredClone(FIXTURE);
  fixture.clients[0].scopes.push(...SCOPES);
  const t = await tenant({ fixture, policy: POLICY });
  tenants.push(t);
  return t;
}

test('a retract rule joins, then leaves once the user stops matching; a returning member costs nothing', async () => {
  const { emu, runner } = await start();
  const orgs = organizationsOf(emu);
  const first = await runner.login(USERS.dennis); // dennis@example.com, verified, not in acme
  assert.equal(first.outcome.error, null, first.logs.join('\n'));
  assert.deepEqual(routes(first).filter((r) => r.includes('organizations')), [
    'GET /api/v2/organizations/name/{name}',
    'GET /api/v2/users/{id}/organizations',
    'POST /api/v2/organizations/{id}/members',
    'POST /api/v2/organizations/{id}/members/{user_id}/roles',
  ]);
  assert.deepEqual(first.appMetadata.provisioning_orgs, ['+acme', '+acme/Admin']);
  assert.ok(orgs.memberIds(ACME).includes(USERS.dennis));
  const again = await runner.login(USERS.dennis);
  assert.deepEqual(routes(again), [], 'recorded: no request');
  // The address changes domain: the rule no longer matches.
  emu.users.get(USERS.dennis).email = 'dennis@elsewhere.org';
  const moved = await runner.login(USERS.dennis);
  assert.equal(moved.outcome.error, null, moved.logs.join('\n'));
  assert.ok(routes(moved).includes('DELETE /api/v2/organizations/{id}/members'), routes(moved).join(', '));
  assert.ok(!orgs.memberIds(ACME).includes(USERS.dennis), 'the membership the policy made is gone');
  assert.equal(moved.appMetadata.provisioning_orgs ?? null, null, 'and so is its record');
  const after = await runner.login(USERS.dennis);
  assert.deepEqual(routes(after), [], 'nothing left to retract');
});

test('a membership the user already had is recorded plain and never retracted', async () => {
  const { emu, runner } = await start();
  const orgs = organizationsOf(emu);
  orgs.addMember(ACME, USERS.dennis); // given by hand, before any login
  const first = await runner.login(USERS.dennis);
  assert.equal(first.outcome.error, null, first.logs.join('\n'));
  assert.ok(!routes(first).includes('POST /api/v2/organizations/{id}/members'), 'no join: already a member');
  assert.deepEqual(first.appMetadata.provisioning_orgs, ['acme', 'acme/Admin']);
  emu.users.get(USERS.dennis).email = 'dennis@elsewhere.org';
  const moved = await runner.login(USERS.dennis);
  assert.deepEqual(routes(moved), [], 'nothing of it was the policy\'s to take back');
  assert.ok(orgs.memberIds(ACME).includes(USERS.dennis));
});
