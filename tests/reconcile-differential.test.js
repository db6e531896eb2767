'use strict';
// The differential test of issue 11: for random users and offline-evaluable rules, the role
// and metadata changes `policy reconcile-plan` (the core, host build) plans equal what the
// built dist/action.js does at that user's next login. Same core, so they must never disagree.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { tenant, ROOT, FIXTURE } = require('./helpers.js');
const { organizationsOf } = require('../pkg-scripts/emulator/organizations-store.js');

const tenants = [];
after(() => Promise.all(tenants.map((t) => t.stop())));

const POLICY = {
  on_error: 'allow',
  rules: [
    { name: 'google', when: { provider: ['google-oauth2'] }, assign_roles: ['Premium User'], retract: true, set_app_metadata: { tier: 'premium' } },
    { name: 'staff', when: { email_domain: ['example.com'] }, assign_roles: ['Admin'], retract: true },
    { name: 'legacy-out', when: { has_role: ['Premium User (Legacy)'], app_metadata: { plan: 'free' } }, remove_roles: ['Premium User (Legacy)'], set_user_metadata: { notice: 'legacy removed', old: null } },
    { name: 'trial', when: { provider: ['auth0'], not: { app_metadata: { plan: 'pro' } } }, assign_roles: ['premium user trial'] },
    { name: 'acme', when: { email_domain: ['acme.com'] }, join_organization: 'acme', organization_roles: { organization: 'acme', roles: ['Admin'] } },
  ],
};

// A seeded PRNG (the emulator seed's), so a failure names a seed that reproduces it.
const { prng } = require('../pkg-scripts/emulator/seed.js');

function randomUsers(n, rand, roles) {
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const some = (xs) => xs.filter(() => rand() < 0.35);
  const connections = ['google-oauth2', 'Username-Password-Authentication', 'email'];
  return Array.from({ length: n }, (_, i) => {
    const connection = pick(connections);
    const prefix = { 'google-oauth2': 'google-oauth2', 'Username-Password-Authentication': 'auth0', email: 'email' }[connection];
    const app = {};
    if (rand() < 0.6) app.plan = pick(['free', 'pro', 'team']);
    if (rand() < 0.3) app.tier = pick(['premium', 'basic']);
    const recorded = some(['Premium User', 'Admin']);
    if (recorded.length) app.provisioning_roles = recorded;
    const orgs = some(['acme', 'acme/Admin']);
    if (orgs.length) app.provisioning_orgs = orgs;
    return {
      user_id: `${prefix}|diff${i}`,
      email: `u${i}@${pick(['example.com', 'gmail.com', 'acme.com'])}`,
      email_verified: rand() < 0.7,
      connection,
      app_metadata: app,
      user_metadata: rand() < 0.3 ? { old: 1 } : {},
      roles: some(roles.map((r) => r.id)),
    };
  });
}

function plans(records) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diff-'));
  const policyFile = path.join(dir, 'policy.json');
  const rolesFile = path.join(dir, 'roles.json');
  fs.writeFileSync(policyFile, JSON.stringify(POLICY));
  fs.writeFileSync(rolesFile, JSON.stringify(records.roles));
  const input = records.users.map((u) => JSON.stringify(u)).join('\n') + '\n';
  const r = spawnSync(path.join(ROOT, 'target/release/policy'), ['reconcile-plan', policyFile, '--roles', rolesFile], { input, encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

const sorted = (xs) => [...xs].sort();

test('reconcile plans what the Action does at the next login, for 60 random users', async () => {
  const seed = Number(process.env.DIFF_SEED || 20261202);
  const fixture = structuredClone(FIXTURE);
  fixture.clients[0].scopes.push('read:organizations', 'create:organization_members', 'create:organization_member_roles');
  const t = await tenant({ policy: POLICY, fixture });
  tenants.push(t);
  const { emu, runner } = t;
  const roles = emu.roles.map(({ id, name }) => ({ id, name }));
  const users = randomUsers(60, prng(seed), roles);
  for (const u of users) emu.addUser(u);
  const input = users.map((u) => ({ user: emu.publicUser(emu.users.get(u.user_id)), roles: emu.users.get(u.user_id).roles }));
  const planned = plans({ roles, users: input });
  let changed = 0;
  for (const [i, u] of users.entries()) {
    const p = planned[i];
    assert.equal(p.user_id, u.user_id);
    assert.equal(p.error, undefined, p.error);
    const before = emu.roleNames(u.user_id);
    const orgs = organizationsOf(emu);
    const acme = orgs.byName('acme').id;
    const member = () => orgs.memberIds(acme).includes(u.user_id);
    const orgRoles = () => (member() ? orgs.memberRoles(acme, u.user_id) : []);
    const [wasMember, rolesBefore] = [member(), orgRoles()];
    const r = await runner.login(u.user_id);
    assert.equal(r.outcome.error, null, r.logs.join('\n'));
    const afterRoles = emu.roleNames(u.user_id);
    const why = `seed ${seed}, user ${u.user_id}: ${JSON.stringify(p)}`;
    assert.deepEqual(sorted(p.assign.map((x) => x.name)), sorted(afterRoles.filter((n) => !before.includes(n))), `assigned; ${why}`);
    assert.deepEqual(sorted(p.remove.map((x) => x.name)), sorted(before.filter((n) => !afterRoles.includes(n))), `removed; ${why}`);
    const plannedAcme = p.orgs.find((o) => o.organization === 'acme');
    assert.equal(member() && !wasMember, Boolean(plannedAcme?.join), `joined; ${why}`);
    const given = orgRoles().filter((x) => !rolesBefore.includes(x));
    assert.deepEqual(sorted(given), sorted((plannedAcme?.roles || []).map((x) => x.id)), `org roles; ${why}`);
    const app = { ...(p.patch?.app_metadata || {}), ...(p.patch_after?.app_metadata || {}) };
    assert.deepEqual(r.appMetadata, app, `app_metadata; ${why}`);
    assert.deepEqual(r.userMetadata, p.patch?.user_metadata || {}, `user_metadata; ${why}`);
    if (p.changes) changed++;
  }
  // The sample is varied enough to mean something: most users have something to change.
  assert.ok(changed >= 20, `only ${changed} users with changes`);
});
