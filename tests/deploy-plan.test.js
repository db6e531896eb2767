'use strict';
// pkg-scripts/deploy/plan.js, the planner of `npm run deploy`: pure, so each case is a tenant
// state and a desired Action in, the steps out. (tests/deploy.test.js runs the whole tool
// against the emulator.)
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { NEW_ACTION_ID, desiredFor, actionChanges, planDeploy, planUndeploy, scopesOf } = require('../pkg-scripts/deploy/plan.js');
const { codeWithFingerprint, secretsFingerprint } = require('../pkg-scripts/deploy/config.js');
const { DeployError } = require('../pkg-scripts/lib/errors.js');

const SECRETS = [{ name: 'AUTH0_DOMAIN', value: 'tenant.example.com' }, { name: 'AUTH0_CLIENT_ID', value: 'cid' }, { name: 'AUTH0_CLIENT_SECRET', value: 'provision-secret-0123' }];
const BASE = 'exports.onExecutePostLogin = async () => {};\n';

function desired({ code = BASE, secrets = SECRETS, trigger = 'post-login' } = {}) {
  return desiredFor({ baseCode: code, code: codeWithFingerprint(code, secrets), secrets, fingerprint: secretsFingerprint(secrets), runtime: 'node22' }, trigger);
}

/** The Action as the API shows it after a deploy of `d` (secret values are write-only). */
function deployedAction(d, over = {}) {
  return {
    id: 'act-ours',
    name: 'provision-access',
    code: d.code,
    secrets: d.secrets.map((s) => ({ name: s.name, updated_at: '2024-01-01T00:00:00Z' })),
    runtime: d.runtime,
    dependencies: [],
    supported_triggers: d.supported_triggers,
    status: 'built',
    all_changes_deployed: true,
    deployed_version: { id: 'ver-1', number: 1, status: 'built' },
    ...over,
  };
}

const binding = (id, name, display) => ({ id: `b-${name}`, display_name: display || name, action: { id, name } });
const FOREIGN = [binding('act-audit', 'audit-log', 'Audit log'), binding('act-mfa', 'mfa-step-up')];
const ref = (value, display) => ({ ref: { type: 'action_id', value }, display_name: display });

/** Deeply frozen: the planner must not change what it was given. */
function frozen(x) {
  if (x && typeof x === 'object') {
    for (const v of Object.values(x)) frozen(v);
    Object.freeze(x);
  }
  return x;
}

function plan({ existing = null, bindings = FOREIGN, d = desired(), name = 'provision-access', trigger = 'post-login' } = {}) {
  return planDeploy(frozen({ trigger, name, desired: d, existing, bindings }));
}

const kinds = (p) => p.steps.map((s) => s.kind);

test('nothing on the tenant: create with the name, deploy, then bind after the bindings already there', () => {
  const d = desired();
  const p = plan({ d });
  assert.deepEqual(kinds(p), ['create', 'deploy', 'bind']);
  const [create, deploy, bind] = p.steps;
  assert.deepEqual(create, {
    kind: 'create', method: 'POST', path: '/api/v2/actions/actions',
    body: { name: 'provision-access', code: d.code, runtime: 'node22', dependencies: [], secrets: SECRETS, supported_triggers: [{ id: 'post-login', version: 'v3' }] },
  });
  assert.equal(deploy.waitBuiltFirst, false, 'the create waits for its own build');
  assert.equal(bind.path, '/api/v2/actions/triggers/post-login/bindings');
  assert.deepEqual(bind.body.bindings, [ref('act-audit', 'Audit log'), ref('act-mfa', 'mfa-step-up'), ref(NEW_ACTION_ID, 'provision-access')]);
  assert.equal(p.changes, undefined);
});

test('deployed, built and bound as desired: no step', () => {
  const d = desired();
  const p = plan({ d, existing: deployedAction(d), bindings: [...FOREIGN, binding('act-ours', 'provision-access')] });
  assert.deepEqual(p.steps, []);
  assert.deepEqual(p.changes, []);
});

test('each difference is named; any of them is an update (PATCH without the name) and a deploy', () => {
  const d = desired();
  const cases = [
    [{ code: codeWithFingerprint('exports.onExecutePostLogin = 1;\n', SECRETS) }, ['code']],
    [{ code: BASE }, ['secrets']], // no fingerprint line: the secrets on the tenant are unknown
    [{ code: codeWithFingerprint(BASE, [...SECRETS.slice(0, 2), { name: 'AUTH0_CLIENT_SECRET', value: 'rotated' }]) }, ['secrets']],
    [{ secrets: [...deployedAction(d).secrets, { name: 'POLICY' }] }, ['secrets']],
    [{ runtime: 'node18' }, ['runtime']],
    [{ dependencies: [{ name: 'auth0', version: '4.0.0' }] }, ['dependencies']],
    [{ supported_triggers: [{ id: 'post-login', version: 'v2' }] }, ['supported_triggers']],
    [{ code: 'old\n', runtime: 'node18' }, ['code', 'secrets', 'runtime']],
  ];
  for (const [over, want] of cases) {
    const existing = deployedAction(d, over);
    assert.deepEqual(actionChanges(existing, d), want, JSON.stringify(over));
    const p = plan({ d, existing, bindings: [binding('act-ours', 'provision-access')] });
    assert.deepEqual(p.changes, want);
    assert.deepEqual(kinds(p), ['update', 'deploy']);
    assert.deepEqual(p.steps[0], {
      kind: 'update', method: 'PATCH', path: '/api/v2/actions/actions/act-ours', changes: want,
      body: { code: d.code, runtime: 'node22', dependencies: [], secrets: SECRETS, supported_triggers: d.supported_triggers },
    });
  }
});

test('unchanged but never deployed (an interrupted run): deploy only, after waiting for the build', () => {
  const d = desired();
  for (const over of [{ all_changes_deployed: false }, { deployed_version: undefined }]) {
    const p = plan({ d, existing: deployedAction(d, over), bindings: [binding('act-ours', 'provision-access')] });
    assert.deepEqual(p.steps, [{ kind: 'deploy', waitBuiltFirst: true }], JSON.stringify(over));
    assert.deepEqual(p.changes, []);
  }
});

test('deployed but its version still building: wait for that version, send nothing', () => {
  const d = desired();
  const existing = deployedAction(d, { deployed_version: { id: 'ver-2', number: 2, status: 'pending' } });
  const p = plan({ d, existing, bindings: [binding('act-ours', 'provision-access')] });
  assert.deepEqual(p.steps, [{ kind: 'wait-deployed', versionId: 'ver-2' }]);
  assert.deepEqual(scopesOf(p.steps), []);
});

test('not bound yet: the bindings are re-sent in order with their display names, ours (by its id) last', () => {
  const d = desired();
  const p = plan({ d, existing: deployedAction(d) });
  assert.deepEqual(kinds(p), ['bind']);
  assert.deepEqual(p.steps[0].body.bindings, [ref('act-audit', 'Audit log'), ref('act-mfa', 'mfa-step-up'), ref('act-ours', 'provision-access')]);
});

test('ours is recognised by id or by name: never bound twice', () => {
  const d = desired();
  for (const b of [binding('act-ours', 'renamed'), binding('act-older', 'provision-access')]) {
    const p = plan({ d, existing: deployedAction(d), bindings: [FOREIGN[0], b, FOREIGN[1]] });
    assert.deepEqual(p.steps, [], JSON.stringify(b));
  }
});

test('a binding without an action id cannot be re-sent: a DeployError before any step, unless no rewrite is needed', () => {
  const d = desired();
  const broken = [FOREIGN[0], { id: 'b-x', display_name: 'Mystery' }];
  assert.throws(() => plan({ d, bindings: broken }), (e) => e instanceof DeployError && e.message === 'a post-login binding (Mystery) has no action id: refusing to rewrite the bindings');
  assert.deepEqual(plan({ d, existing: deployedAction(d), bindings: [...broken, binding('act-ours', 'provision-access')] }).steps, []);
});

test('the other trigger: its own trigger version, its own bindings path', () => {
  const d = desired({ trigger: 'post-user-registration' });
  const p = plan({ d, trigger: 'post-user-registration', name: 'provision-access-post-user-registration', bindings: [] });
  assert.deepEqual(p.steps[0].body.supported_triggers, [{ id: 'post-user-registration', version: 'v2' }]);
  assert.equal(p.steps[2].path, '/api/v2/actions/triggers/post-user-registration/bindings');
  assert.deepEqual(p.steps[2].body.bindings, [ref(NEW_ACTION_ID, 'provision-access-post-user-registration')]);
});

test('undeploy: our binding removed, the others kept in order; not bound: no step; the Action never changed', () => {
  const existing = deployedAction(desired());
  const bindings = frozen([FOREIGN[0], binding('act-ours', 'provision-access'), FOREIGN[1]]);
  const p = planUndeploy({ trigger: 'post-login', name: 'provision-access', existing, bindings });
  assert.deepEqual(p.steps, [{
    kind: 'unbind', method: 'PATCH', path: '/api/v2/actions/triggers/post-login/bindings',
    body: { bindings: [ref('act-audit', 'Audit log'), ref('act-mfa', 'mfa-step-up')] },
  }]);
  assert.deepEqual(p.kept, ['Audit log', 'mfa-step-up']);
  assert.deepEqual(planUndeploy({ trigger: 'post-login', name: 'provision-access', existing, bindings: FOREIGN }).steps, []);
  assert.deepEqual(planUndeploy({ trigger: 'post-login', name: 'provision-access', existing: null, bindings: [binding('act-gone', 'provision-access')] }).steps[0].body.bindings, [],
    'bound by name though the Action is gone');
  assert.throws(() => planUndeploy({ trigger: 'post-login', name: 'provision-access', existing, bindings: [...bindings, { id: 'b-x' }] }), DeployError);
});

test('the scopes a plan needs: create:actions to create or deploy, update:actions to update or (un)bind', () => {
  const d = desired();
  assert.deepEqual([...new Set(scopesOf(plan({ d }).steps))], ['create:actions', 'update:actions']);
  assert.deepEqual(scopesOf([{ kind: 'deploy' }]), ['create:actions']);
  assert.deepEqual(scopesOf([{ kind: 'unbind' }]), ['update:actions']);
});
