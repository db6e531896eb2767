'use strict';
// reconcile and organizations (issue 12): the core plans memberships and organization roles,
// the executor resolves organization names once, batches memberships ≤ 10 per POST
// /organizations/{id}/members, gives the roles one POST per member, records
// provisioning_orgs only after, and a re-run sends nothing. Against the emulator: fixture
// organizations acme (no members) and globex; every user's email set by the test.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tenant, reconcile, scratch, writeCounts, total } = require('./reconcile-helpers.js');
const { organizationsOf } = require('../pkg-scripts/emulator/organizations-store.js');

const ACME = 'org_acme000000000001';
const EMPLOYEE = 'rol_employee000001';
const MEMBERS = 'POST /api/v2/organizations/{id}/members';
const ORG_ROLES = 'POST /api/v2/organizations/{id}/members/{user_id}/roles';

function policyFile(org = 'acme') {
  const file = path.join(scratch(), 'b2b.json');
  fs.writeFileSync(file, JSON.stringify({
    rules: [{ name: 'acme-by-domain', when: { email_domain: 'acme.com' }, join_organization: org, organization_roles: { organization: org, roles: ['Employee'] } }],
  }));
  return file;
}

/**
 * A tenant of `n` generated users (and the fixture's): the first `acme` verified @acme.com,
 * `unverified` more @acme.com unverified, the rest verified @gmail.com; no role held.
 */
async function b2bTenant(n, acme, unverified, opts) {
  const t = await tenant(n, opts);
  let i = 0;
  const ids = [];
  for (const [, u0] of t.emu.users.scan()) {
    const u = t.emu.users.get(u0.user_id);
    const k = i++;
    u.email = k < acme + unverified ? `user${k}@acme.com` : `user${k}@gmail.com`;
    u.email_verified = k < acme || k >= acme + unverified;
    u.roles = [];
    u.app_metadata = {};
    if (k < acme) ids.push(u.user_id);
  }
  return { ...t, acmeIds: ids };
}

const writesOf = (emu) => emu.requests.filter((e) => e.method !== 'GET' && e.route.startsWith(`${e.method} /api/v2/`));

test('25 verified @acme.com users: 3 member batches of ≤ 10, 25 role writes, 25 records; a re-run writes nothing', async () => {
  const t = await b2bTenant(60, 25, 3);
  try {
    const policy = policyFile();
    const dry = await reconcile(['--policy', policy], t.env);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /org joins\s+org roles/);
    assert.match(dry.stdout, /acme-by-domain\s+25\s+0\s+0\s+25\s+25\s/);
    assert.match(dry.stdout, /requests --apply will send: 53 write\(s\): .*3 POST \/organizations\/\{id\}\/members \(batches of up to 10\), 25 POST \/organizations\/\{id\}\/members\/\{user_id\}\/roles, 25 PATCH after the grants/);
    assert.match(dry.stdout, /organizations: acme \(org_acme000000000001\)/);
    assert.equal(total(writeCounts(t.emu)), 0, 'a dry run writes nothing');
    // 25 joins + 25 roles + 25 record keys = 75 changes: --max-changes counts them.
    const capped = await reconcile(['--policy', policy, '--apply', '--max-changes', '74'], t.env);
    assert.equal(capped.status, 1);
    assert.match(capped.stderr, /75 changes, more than --max-changes 74/);

    const byName = t.emu.requests.filter((e) => e.route === 'GET /api/v2/organizations/name/{name}').length;
    const start = t.emu.requests.length;
    const r = await reconcile(['--policy', policy, '--apply'], t.env);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const log = t.emu.requests.slice(start);
    assert.equal(log.filter((e) => e.route === 'GET /api/v2/organizations/name/{name}').length, 1, 'the name resolved once per run');
    assert.equal(byName, 2, 'once per earlier run too');
    const batches = log.filter((e) => e.route === MEMBERS);
    assert.deepEqual(batches.map((e) => e.body.members.length), [10, 10, 5]);
    assert.ok(batches.every((e) => e.path === `/api/v2/organizations/${ACME}/members` && e.status === 204));
    const roleWrites = log.filter((e) => e.route === ORG_ROLES);
    assert.equal(roleWrites.length, 25);
    assert.ok(roleWrites.every((e) => e.status === 204 && JSON.stringify(e.body) === JSON.stringify({ roles: [EMPLOYEE] })));
    const writes = log.filter((e) => e.method !== 'GET' && e.route.startsWith(`${e.method} /api/v2/`));
    // Minimum: 3 batches + 25 role writes + 25 record PATCHes; every record after its grants.
    assert.equal(writes.length, 53);
    assert.match(r.stdout, /requests: 53 write\(s\) sent for a minimum of 53 \(\+0\.0%\)/);
    const lastGrant = Math.max(...writes.map((e, i) => (e.route === ORG_ROLES || e.route === MEMBERS ? i : -1)));
    const firstPatch = writes.findIndex((e) => e.route === 'PATCH /api/v2/users/{id}');
    assert.ok(firstPatch > lastGrant, 'phase 4 after every organization write');

    const orgs = organizationsOf(t.emu);
    assert.deepEqual(new Set(orgs.memberIds(ACME)), new Set(t.acmeIds));
    for (const id of t.acmeIds) {
      assert.deepEqual(orgs.memberRoles(ACME, id), [EMPLOYEE]);
      assert.deepEqual(t.emu.users.peek(id).app_metadata.provisioning_orgs, ['acme', 'acme/Employee']);
    }

    const before = writesOf(t.emu).length;
    const again = await reconcile(['--policy', policy, '--apply'], t.env);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(writesOf(t.emu).length, before, 'a re-run sends no write');
    assert.match(again.stdout, /none: the tenant already matches the policy/);
  } finally {
    await t.stop();
  }
});

test('an organization name the tenant lacks refuses the run before any write, naming it', async () => {
  const t = await b2bTenant(20, 5, 0);
  try {
    const r = await reconcile(['--policy', policyFile('initech'), '--apply'], t.env);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /organizations the tenant lacks: "initech".*Nothing was changed/);
    assert.equal(writesOf(t.emu).length, 0);
    assert.equal(t.emu.requests.filter((e) => e.route === 'GET /api/v2/users').length, 0, 'refused before the users are read');
  } finally {
    await t.stop();
  }
});

test('an organization id is used as given; the 50-role cap (409) is a per-user error and that user is asked again next run', async () => {
  const t = await b2bTenant(20, 4, 0);
  try {
    const orgs = organizationsOf(t.emu);
    // One member already holds 50 other roles in acme: the Employee role would be the 51st.
    const full = t.acmeIds[1];
    for (let i = 0; i < 50; i++) t.emu.roles.push({ id: `rol_filler${String(i).padStart(8, '0')}`, name: `filler ${i}` });
    orgs.addMember(ACME, full, t.emu.roles.slice(-50).map((r) => r.id));
    const policy = policyFile(ACME);
    const r = await reconcile(['--policy', policy, '--apply'], t.env);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`failed: ${full.replace('|', '\\|')}: organization ${ACME}: the member already holds the most roles Auth0 allows in one organization \\(50\\)`));
    assert.equal(t.emu.requests.filter((e) => e.route === 'GET /api/v2/organizations/name/{name}').length, 0, 'an id is not looked up');
    for (const id of t.acmeIds) {
      const rec = (t.emu.users.peek(id).app_metadata || {}).provisioning_orgs;
      if (id === full) assert.equal(rec, undefined, 'not recorded: the next run retries');
      else assert.deepEqual(rec, [ACME, `${ACME}/Employee`]);
    }
    // Room made by hand: the next run gives the role to that user only; the membership read
    // from the tenant says it is a member already, so no join is sent.
    orgs.revoke(orgs.byId(ACME), full, t.emu.roles.slice(-50).map((x) => x.id));
    const start = t.emu.requests.length;
    const again = await reconcile(['--policy', policy, '--apply'], t.env);
    assert.equal(again.status, 0, again.stdout + again.stderr);
    const writes = t.emu.requests.slice(start).filter((e) => e.method !== 'GET' && e.route.startsWith(`${e.method} /api/v2/`));
    assert.deepEqual(writes.map((e) => e.route), [ORG_ROLES, 'PATCH /api/v2/users/{id}']);
    assert.ok(writes.every((e) => e.path.includes(encodeURIComponent(full))), 'only the capped user');
    assert.deepEqual(orgs.memberRoles(ACME, full), [EMPLOYEE]);
  } finally {
    await t.stop();
  }
});

test('SIGKILL twice during the organization writes, re-run: every member holds its role and is recorded once', async () => {
  const t = await b2bTenant(60, 40, 0);
  try {
    const policy = policyFile();
    const apply = ['--policy', policy, '--apply'];
    const isW = (e) => e.method !== 'GET' && e.route.startsWith(`${e.method} /api/v2/`);
    const rounds = [];
    for (const k of [20, 30]) { // both in phase 3: after the 4 member batches, among the 40 role writes
      let n = 0;
      let child = null;
      t.emu.onRequest = (e) => { if (isW(e) && ++n === k && child) child.kill('SIGKILL'); };
      const r = await reconcile(apply, t.env, { onSpawn: (c) => { child = c; } });
      t.emu.onRequest = null;
      assert.equal(r.signal, 'SIGKILL', r.stdout + r.stderr);
      rounds.push(n);
    }
    const start = writesOf(t.emu).length;
    const last = await reconcile(apply, t.env);
    assert.equal(last.status, 0, last.stdout + last.stderr);
    const orgs = organizationsOf(t.emu);
    assert.deepEqual(new Set(orgs.memberIds(ACME)), new Set(t.acmeIds));
    for (const id of t.acmeIds) {
      assert.deepEqual(orgs.memberRoles(ACME, id), [EMPLOYEE]);
      assert.deepEqual(t.emu.users.peek(id).app_metadata.provisioning_orgs, ['acme', 'acme/Employee']);
    }
    const all = writesOf(t.emu);
    const patches = all.filter((e) => e.route === 'PATCH /api/v2/users/{id}' && e.status >= 200 && e.status < 300);
    assert.equal(new Set(patches.map((e) => e.path)).size, patches.length, 'no user recorded twice');
    // The minimum is 4 batches + 40 role writes + 40 PATCHes = 84. The kills cost nothing on
    // top: a re-run reads the memberships back, and what is held is recorded, not re-sent.
    console.log(`# kills at writes ${rounds.join(', ')}; last run ${all.length - start} writes; in all ${all.length} for a minimum of 84`);
    assert.equal(all.length, 84, 'no organization write sent twice across the kills');
    const before = writesOf(t.emu).length;
    assert.equal((await reconcile(apply, t.env)).status, 0);
    assert.equal(writesOf(t.emu).length, before, 'a run on the finished tenant sends no write');
  } finally {
    await t.stop();
  }
});

test('a join-only policy needs no organization-role scope: members are read without roles', async () => {
  const t = await b2bTenant(20, 5, 0);
  try {
    t.emu.clients[0].scopes = t.emu.clients[0].scopes.filter((s) => !s.endsWith(':organization_member_roles'));
    const file = path.join(scratch(), 'join-only.json');
    fs.writeFileSync(file, JSON.stringify({ rules: [{ name: 'join', when: { email_domain: 'acme.com' }, join_organization: 'acme' }] }));
    const r = await reconcile(['--policy', file, '--apply'], t.env);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(new Set(organizationsOf(t.emu).memberIds(ACME)), new Set(t.acmeIds));
    const reads = t.emu.requests.filter((e) => e.route === 'GET /api/v2/organizations/{id}/members');
    assert.ok(reads.length >= 1 && reads.every((e) => !/fields=[^&]*roles/.test(e.path)), reads.map((e) => e.path).join('\n'));
    assert.deepEqual(writesOf(t.emu).filter((e) => e.route === ORG_ROLES), []);
  } finally {
    await t.stop();
  }
});
