'use strict';
// Organizations at login, through the built dist/action.js against the emulator: join by a
// verified email domain, organization roles (by name and for the login's own organization),
// recorded in app_metadata.provisioning_orgs so a returning user costs nothing, the name
// look-up cached, and failures (unknown organization, the 50-role cap) clear and retried.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { tenant, routes, FIXTURE, USERS } = require('./helpers.js');
const { organizationsOf } = require('../pkg-scripts/emulator/organizations-store.js');

const ACME = 'org_acme000000000001';
const GLOBEX = 'org_globex0000000001';
const SCOPES = ['read:organizations', 'create:organization_members', 'create:organization_member_roles'];

const tenants = [];
after(() => Promise.all(tenants.map((t) => t.stop())));

const B2B = {
  on_error: 'allow',
  claims_namespace: 'https://example.com/',
  rules: [
    {
      name: 'acme-by-domain', when: { email_domain: 'example.com' },
      join_organization: 'acme', organization_roles: { organization: 'acme', roles: ['Admin'] },
    },
    {
      name: 'org-login', when: { trigger: 'post-login', organization: 'globex' },
      organization_roles: { organization: '$current', roles: ['Premium User'] },
      claims: { org: { from: 'organization.name' } },
    },
  ],
};

async function start(policy = B2B, scopes = SCOPES) {
  const fixture = structuredClone(FIXTURE);
  fixture.clients[0].scopes.push(...scopes);
  const t = await tenant({ fixture, policy });
  tenants.push(t);
  return t;
}

const orgWrites = (r) => routes(r).filter((x) => x.includes('/organizations/'));

test('a verified domain joins the organization with its role, once; the name look-up is cached', async () => {
  const { emu, runner } = await start();
  const orgs = organizationsOf(emu);
  // dennis@example.com (verified) is not in acme yet.
  const first = await runner.login(USERS.dennis);
  assert.equal(first.outcome.error, null, first.logs.join('\n'));
  assert.deepEqual(orgWrites(first), [
    'GET /api/v2/organizations/name/{name}',
    'POST /api/v2/organizations/{id}/members',
    'POST /api/v2/organizations/{id}/members/{user_id}/roles',
  ]);
  assert.ok(orgs.memberIds(ACME).includes(USERS.dennis));
  assert.deepEqual(orgs.memberRoles(ACME, USERS.dennis), ['rol_admin00000001']);
  assert.deepEqual(first.appMetadata.provisioning_orgs, ['acme', 'acme/Admin']);
  const again = await runner.login(USERS.dennis);
  assert.deepEqual(routes(again), [], 'recorded: a returning user costs no request');
  // Another user of the domain in the same warm container: no second name look-up.
  const u = emu.users.get(USERS.barbara);
  Object.assign(u, { email: 'barbara@example.com', email_verified: true });
  const other = await runner.login(USERS.barbara);
  assert.equal(other.outcome.error, null, other.logs.join('\n'));
  assert.ok(!routes(other).includes('GET /api/v2/organizations/name/{name}'), routes(other).join(', '));
  assert.ok(orgs.memberIds(ACME).includes(USERS.barbara));
  // An unverified address of the domain never joins.
  Object.assign(emu.users.get(USERS.ada), { email: 'ada@example.com', email_verified: false });
  const unverified = await runner.login(USERS.ada);
  assert.deepEqual(orgWrites(unverified), []);
  assert.ok(!orgs.memberIds(ACME).includes(USERS.ada));
});

test('$current gives the role in the login organization, and claims carry its name', async () => {
  const { emu, runner } = await start();
  const orgs = organizationsOf(emu);
  const r = await runner.login(USERS.dennis, { organization: { id: GLOBEX, name: 'globex' } });
  assert.equal(r.outcome.error, null, r.logs.join('\n'));
  assert.ok(orgs.memberRoles(GLOBEX, USERS.dennis).includes('rol_premium0000001'));
  assert.ok(r.appMetadata.provisioning_orgs.includes(`${GLOBEX}/Premium User`), JSON.stringify(r.appMetadata));
  assert.equal(r.idClaims['https://example.com/org'], 'globex');
  const again = await runner.login(USERS.dennis, { organization: { id: GLOBEX, name: 'globex' } });
  assert.deepEqual(routes(again), []);
});

test('an unknown organization and the 50-role cap are clear errors, left pending and retried', async () => {
  const policy = {
    on_error: 'allow',
    rules: [{ name: 'join-nowhere', when: { email_domain: 'example.com' }, join_organization: 'no-such-org' }],
  };
  const { runner } = await start(policy);
  const r = await runner.login(USERS.dennis);
  assert.match(r.outcome.error, /no organization is named "no-such-org"/);
  assert.deepEqual(r.appMetadata.provisioning_pending, ['join-nowhere']);
  assert.equal(r.appMetadata.provisioning_orgs, undefined, 'nothing recorded for what failed');

  const { emu, runner: capped } = await start();
  const orgs = organizationsOf(emu);
  // dennis already holds 50 roles in acme (the emulator's cap): the Admin role cannot be added.
  const extra = Array.from({ length: 50 }, (_, i) => ({ id: `rol_cap${String(i).padStart(11, '0')}`, name: `Cap ${i}` }));
  emu.roles.push(...extra.map((x) => ({ ...x, description: '' })));
  orgs.addMember(ACME, USERS.dennis, extra.map((x) => x.id));
  const c = await capped.login(USERS.dennis);
  assert.match(c.outcome.error, /50 roles in this organization/);
  assert.deepEqual(c.appMetadata.provisioning_pending, ['acme-by-domain']);
});

test('without the organization scopes the login is allowed and the failure names the call', async () => {
  const { runner } = await start(B2B, []);
  const r = await runner.login(USERS.dennis);
  assert.match(r.outcome.error, /GET \/api\/v2\/organizations\/name\/\{name\} failed: HTTP 403/);
  assert.equal(r.outcome.denied, false);
});

test('policy check refuses a public email domain in a rule that joins, with its JSON path', () => {
  const { spawnSync } = require('node:child_process');
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orgs-')), 'policy.json');
  const rule = { name: 'join', when: { email_domain: ['acme.com', 'gmail.com'] }, join_organization: 'acme' };
  fs.writeFileSync(file, JSON.stringify({ rules: [rule] }));
  const check = () => spawnSync(process.execPath, [path.join(__dirname, '..', 'pkg-scripts', 'policy.js'), 'check', file], { encoding: 'utf8' });
  const bad = check();
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout + bad.stderr, /rules\[0\]\.when\.email_domain\[1\].*public email provider/);
  fs.writeFileSync(file, JSON.stringify({ rules: [{ ...rule, allow_public_email_domains: true }] }));
  const ok = check();
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
});
