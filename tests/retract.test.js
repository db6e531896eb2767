'use strict';
// Retraction at login: a rule with "retract": true records the roles it grants in
// app_metadata.provisioning_roles (through api.user, no extra request) and removes them when
// the user stops matching; a role given by hand is never removed.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { tenant, USERS } = require('./helpers.js');

const tenants = [];
after(() => Promise.all(tenants.map((t) => t.stop())));

const POLICY = {
  on_error: 'allow',
  rules: [{ name: 'pro-plan', when: { app_metadata: { plan: 'pro' } }, assign_roles: ['Premium User'], retract: true }],
};

async function start() {
  const t = await tenant({ policy: POLICY });
  tenants.push(t);
  return t;
}

const held = (emu, id) => emu.roleNames(id);

test('granted and recorded while matching, removed and un-recorded when not, at login', async () => {
  const { emu, runner } = await start();
  const user = emu.users.get(USERS.ada);
  user.app_metadata = { plan: 'pro' };
  const first = await runner.login(USERS.ada);
  assert.equal(first.outcome.error, null, first.logs.join('\n'));
  assert.ok(held(emu, USERS.ada).includes('Premium User'));
  assert.deepEqual(first.appMetadata.provisioning_roles, ['Premium User']);
  assert.equal(first.requests.filter((r) => r.route === 'PATCH /api/v2/users/{id}').length, 0, 'recorded through api.user');

  const again = await runner.login(USERS.ada);
  assert.deepEqual(again.requests.map((r) => r.route), [], 'a returning matching user costs nothing');

  emu.users.get(USERS.ada).app_metadata.plan = 'free';
  const gone = await runner.login(USERS.ada);
  assert.equal(gone.outcome.error, null, gone.logs.join('\n'));
  assert.ok(gone.requests.some((r) => r.route === 'DELETE /api/v2/users/{id}/roles'));
  assert.ok(!held(emu, USERS.ada).includes('Premium User'));
  assert.equal(gone.appMetadata.provisioning_roles, null, 'the record is cleared');
  const after2 = await runner.login(USERS.ada);
  assert.deepEqual(after2.requests.map((r) => r.route), [], 'nothing left to do');
});

test('a role given by hand is never retracted, nor one the policy did not record', async () => {
  const { emu, runner } = await start();
  // alan holds Premium User by hand and does not match.
  assert.ok(held(emu, USERS.alan).includes('Premium User'));
  const r = await runner.login(USERS.alan);
  assert.equal(r.outcome.error, null, r.logs.join('\n'));
  assert.deepEqual(r.requests.map((q) => q.route), []);
  assert.ok(held(emu, USERS.alan).includes('Premium User'));
  // Matching while already holding it by hand: not recorded, so not removed later either.
  emu.users.get(USERS.alan).app_metadata = { plan: 'pro' };
  const m = await runner.login(USERS.alan);
  assert.equal(m.appMetadata.provisioning_roles, undefined);
  emu.users.get(USERS.alan).app_metadata.plan = 'free';
  const n = await runner.login(USERS.alan);
  assert.deepEqual(n.requests.map((q) => q.route), []);
  assert.ok(held(emu, USERS.alan).includes('Premium User'));
});

test('an unreadable condition never retracts (fail closed keeps what was granted)', async () => {
  const { emu, runner } = await start();
  emu.users.get(USERS.grace).app_metadata = { plan: 'pro' };
  await runner.login(USERS.grace);
  assert.ok(held(emu, USERS.grace).includes('Premium User'));
  let deep = {};
  const root = deep;
  for (let i = 0; i < 300; i++) deep = deep.x = {};
  const r = await runner.login(USERS.grace, {
    edit: (ev) => { ev.user.app_metadata = { ...ev.user.app_metadata, plan: root }; },
  });
  assert.equal(r.outcome.error, null, r.logs.join('\n'));
  assert.ok(!r.requests.some((q) => q.route === 'DELETE /api/v2/users/{id}/roles'), 'unknown is not "no longer matching"');
  assert.ok(held(emu, USERS.grace).includes('Premium User'));
});
