'use strict';
// reconcile retracts organization access (issue 12): what a retract rule made (recorded
// +acme) goes in phase 1 — DELETE /organizations/{id}/members, ≤ 10 users a request — and is
// un-recorded in phase 2; a membership the user had before is never touched; a run killed
// among the removals and run again ends in the same state with no write sent twice.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tenant, reconcile, scratch } = require('./reconcile-helpers.js');
const { organizationsOf } = require('../pkg-scripts/emulator/organizations-store.js');

const ACME = 'org_acme000000000001';
const LEAVE = 'DELETE /api/v2/organizations/{id}/members';
const JOIN = 'POST /api/v2/organizations/{id}/members';
const PATCH = 'PATCH /api/v2/users/{id}';

function policyFile() {
  const file = path.join(scratch(), 'staff.json');
  fs.writeFileSync(file, JSON.stringify({
    rules: [{ name: 'staff', retract: true, when: { email_domain: 'acme.com' }, join_organization: 'acme' }],
  }));
  return file;
}

/** `n` generated users, the first `acme` verified @acme.com, the rest @gmail.com. */
async function staffTenant(n, acme) {
  const t = await tenant(n);
  t.emu.clients[0].scopes.push('delete:organization_members');
  let i = 0;
  const ids = [];
  for (const [, u0] of t.emu.users.scan()) {
    const u = t.emu.users.get(u0.user_id);
    const k = i++;
    u.email = k < acme ? `user${k}@acme.com` : `user${k}@gmail.com`;
    u.email_verified = true;
    u.roles = [];
    u.app_metadata = {};
    if (k < acme) ids.push(u.user_id);
  }
  return { ...t, ids };
}

const writes = (emu, from = 0) => emu.requests.slice(from).filter((e) => e.method !== 'GET' && e.route.startsWith(`${e.method} /api/v2/`));

test('members the policy made leave in batches of ≤ 10 once the rule stops matching; a member by hand stays', async () => {
  const t = await staffTenant(40, 26);
  try {
    const orgs = organizationsOf(t.emu);
    const byHand = t.ids[25];
    orgs.addMember(ACME, byHand); // a member before the policy ran: recorded plain, never removed
    const policy = policyFile();
    const first = await reconcile(['--policy', policy, '--apply'], t.env);
    assert.equal(first.status, 0, first.stdout + first.stderr);
    for (const id of t.ids.slice(0, 25)) assert.deepEqual(t.emu.users.peek(id).app_metadata.provisioning_orgs, ['+acme']);
    assert.deepEqual(t.emu.users.peek(byHand).app_metadata.provisioning_orgs, ['acme']);
    // 16 users move to another domain, the hand-given member among them.
    const moved = [...t.ids.slice(0, 15), byHand];
    for (const id of moved) t.emu.users.get(id).email = 'someone@elsewhere.org';
    const dry = await reconcile(['--policy', policy], t.env);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /2 DELETE \/organizations\/\{id\}\/members \(batches of up to 10\)/);
    const start = t.emu.requests.length;
    const r = await reconcile(['--policy', policy, '--apply'], t.env);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const w = writes(t.emu, start);
    assert.deepEqual(w.filter((e) => e.route === LEAVE).map((e) => e.body.members.length), [10, 5]);
    assert.equal(w.filter((e) => e.route === PATCH).length, 15, 'one record PATCH per user who left');
    assert.equal(w.length, 17, 'the minimum: 2 batches + 15 PATCHes');
    const firstPatch = w.findIndex((e) => e.route === PATCH);
    assert.ok(w.slice(firstPatch).every((e) => e.route === PATCH), 'phase 1 before the un-record');
    const members = new Set(orgs.memberIds(ACME));
    for (const id of t.ids.slice(0, 15)) {
      assert.ok(!members.has(id));
      assert.equal(t.emu.users.peek(id).app_metadata.provisioning_orgs, undefined);
    }
    assert.ok(members.has(byHand), 'the hand-given membership stays');
    for (const id of t.ids.slice(15, 25)) assert.ok(members.has(id));
    const before = writes(t.emu).length;
    assert.equal((await reconcile(['--policy', policy, '--apply'], t.env)).status, 0);
    assert.equal(writes(t.emu).length, before, 'a re-run sends no write');
  } finally {
    await t.stop();
  }
});

test('SIGKILL among the removals, re-run: the same end state, no removal sent twice', async () => {
  const t = await staffTenant(40, 30);
  try {
    const policy = policyFile();
    assert.equal((await reconcile(['--policy', policy, '--apply'], t.env)).status, 0);
    for (const id of t.ids) t.emu.users.get(id).email = 'someone@elsewhere.org';
    const start = t.emu.requests.length;
    let n = 0;
    let child = null;
    // After the 3 DELETE batches and 5 of the 30 record PATCHes.
    t.emu.onRequest = (e) => { if (e.method !== 'GET' && ++n === 8 && child) child.kill('SIGKILL'); };
    const killed = await reconcile(['--policy', policy, '--apply'], t.env, { onSpawn: (c) => { child = c; } });
    t.emu.onRequest = null;
    assert.equal(killed.signal, 'SIGKILL', killed.stdout + killed.stderr);
    const last = await reconcile(['--policy', policy, '--apply'], t.env);
    assert.equal(last.status, 0, last.stdout + last.stderr);
    const w = writes(t.emu, start);
    assert.deepEqual(organizationsOf(t.emu).memberIds(ACME), []);
    for (const id of t.ids) assert.equal(t.emu.users.peek(id).app_metadata.provisioning_orgs, undefined);
    assert.equal(w.filter((e) => e.route === JOIN).length, 0);
    assert.equal(w.filter((e) => e.route === LEAVE).length, 3, 'the re-run reads the members back: nothing removed twice');
    const patched = w.filter((e) => e.route === PATCH && e.status < 300).map((e) => e.path);
    assert.equal(new Set(patched).size, 30, 'every user un-recorded');
    assert.ok(patched.length <= 31, `at most the PATCH in flight at the kill is repeated (${patched.length})`);
  } finally {
    await t.stop();
  }
});
