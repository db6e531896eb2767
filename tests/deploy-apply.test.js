'use strict';
// pkg-scripts/deploy/apply.js, the applier of `npm run deploy`, on a scripted client: it
// sends what the plan says in order, waits for Auth0's builds within --wait, and a run that
// cannot finish is a DeployError (deploy.js: exit 1, one line, no stack).
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
// Random, as real secrets are: the secret scan flags any 8-character piece of a secret, so a
// word-like one would match ordinary output (client ids, tool names).
const randomSecret = () => require('node:crypto').randomBytes(24).toString('base64url');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Applier } = require('../pkg-scripts/deploy/apply.js');
const { planDeploy, NEW_ACTION_ID } = require('../pkg-scripts/deploy/plan.js');
const { ApiError } = require('../pkg-scripts/deploy/client.js');
const { DeployError } = require('../pkg-scripts/lib/errors.js');
const { TenantEmulator } = require('../pkg-scripts/emulator/server.js');
const { actionsOf } = require('../pkg-scripts/emulator/actions-api.js');
const { main } = require('../pkg-scripts/deploy.js');

const ROOT = path.resolve(__dirname, '..');
const DESIRED = { baseCode: 'x\n', code: 'x\n', secrets: [], fingerprint: '', runtime: 'node22', supported_triggers: [{ id: 'post-login', version: 'v3' }] };

/**
 * A client whose answers come from `answer(method, path, body, n)` (n: how many calls of that
 * method and path came before); every call is recorded as "METHOD path".
 */
function scripted(answer) {
  const calls = [];
  const seen = new Map();
  return {
    calls,
    async call(method, pathname, { body } = {}) {
      const key = `${method} ${pathname}`;
      const n = seen.get(key) || 0;
      seen.set(key, n + 1);
      calls.push({ key, body });
      return answer(method, pathname, body, n);
    },
  };
}

const applier = (mgmt, waitMs = 5000) => new Applier({ mgmt, say: () => {}, waitMs, sleep: async () => {} });
const apiError = (status, apiMessage) => new ApiError(`HTTP ${status}`, { status, apiMessage });

test('a create plan: create, poll until built, deploy (again while "not built"), poll the version, bind with the new id', async () => {
  const p = planDeploy({ trigger: 'post-login', name: 'prov', desired: DESIRED, existing: null, bindings: [] });
  const mgmt = scripted((method, pathname, _body, n) => {
    const key = `${method} ${pathname}`;
    if (key === 'POST /api/v2/actions/actions') return { id: 'new-id', status: 'pending' };
    if (key === 'GET /api/v2/actions/actions/new-id') {
      if (n === 0) return { status: 'pending' };
      return { status: 'built', deployed_version: n >= 3 ? { id: 'ver-1', status: 'built' } : { id: 'ver-1', status: 'pending' } };
    }
    if (key === 'POST /api/v2/actions/actions/new-id/deploy') {
      if (n === 0) throw apiError(400, "The action must be in the 'built' state");
      return { id: 'ver-1', number: 1 };
    }
    if (key === 'PATCH /api/v2/actions/triggers/post-login/bindings') return { bindings: [] };
    throw new Error(`unexpected ${key}`);
  });
  await applier(mgmt).apply(p);
  assert.deepEqual(mgmt.calls.map((c) => c.key), [
    'POST /api/v2/actions/actions',
    'GET /api/v2/actions/actions/new-id', 'GET /api/v2/actions/actions/new-id',
    'POST /api/v2/actions/actions/new-id/deploy', 'POST /api/v2/actions/actions/new-id/deploy',
    'GET /api/v2/actions/actions/new-id', 'GET /api/v2/actions/actions/new-id',
    'PATCH /api/v2/actions/triggers/post-login/bindings',
  ]);
  assert.deepEqual(mgmt.calls.at(-1).body.bindings, [{ ref: { type: 'action_id', value: 'new-id' }, display_name: 'prov' }]);
  assert.ok(!JSON.stringify(mgmt.calls).includes(NEW_ACTION_ID), 'the placeholder is never sent');
  assert.equal(p.steps[2].body.bindings[0].ref.value, NEW_ACTION_ID, 'the plan itself is left as it was');
});

test('a create answered 409 (an earlier create had succeeded): that Action is found and updated instead', async () => {
  const p = planDeploy({ trigger: 'post-login', name: 'prov', desired: DESIRED, existing: null, bindings: [] });
  const mgmt = scripted((method, pathname) => {
    const key = `${method} ${pathname}`;
    if (key === 'POST /api/v2/actions/actions') throw apiError(409, 'exists');
    if (key === 'GET /api/v2/actions/actions') return { actions: [{ id: 'old-id', name: 'prov' }], total: 1 };
    if (key === 'PATCH /api/v2/actions/actions/old-id') return { id: 'old-id', status: 'built' };
    if (key === 'GET /api/v2/actions/actions/old-id') return { id: 'old-id', status: 'built', deployed_version: { id: 'v', status: 'built' } };
    if (key === 'POST /api/v2/actions/actions/old-id/deploy') return { id: 'v' };
    return {};
  });
  await applier(mgmt).apply(p);
  const patch = mgmt.calls.find((c) => c.key === 'PATCH /api/v2/actions/actions/old-id');
  assert.ok(patch && !('name' in patch.body), 'updated without the name');
  assert.equal(mgmt.calls.at(-1).body.bindings[0].ref.value, 'old-id');
});

test('a build that does not finish within --wait, or fails, is a DeployError naming what it waited for', async () => {
  const p = planDeploy({ trigger: 'post-login', name: 'prov', desired: DESIRED, existing: null, bindings: [] });
  const never = scripted((method) => (method === 'POST' ? { id: 'a', status: 'pending' } : { status: 'pending' }));
  await assert.rejects(applier(never, 1000).apply(p), (e) => e instanceof DeployError &&
    e.message === 'timed out after 1 s waiting for Auth0 to build the Action; re-run later (it is idempotent) or raise --wait');
  const failed = scripted(() => ({ id: 'a', name: 'prov', status: 'failed' }));
  await assert.rejects(applier(failed).apply(p), (e) => e instanceof DeployError && e.message === 'Auth0 failed to build the Action prov (status failed)');
});

// deploy.js against the emulator, in-process: a build that never finishes ends the run with
// the DeployError's message alone.
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-apply-test-'));
let emu;
after(async () => {
  if (emu) await emu.stop();
  fs.rmSync(TMP, { recursive: true, force: true });
});

test('deploy.js: a timeout exits 1 with one line (no stack) and sends no bind', async () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, 'pkg-scripts/emulator/fixture.json'), 'utf8'));
  const deployer = { client_id: 'deployer-apply-test', client_secret: randomSecret(), scopes: ['read:actions', 'create:actions', 'update:actions'] };
  fixture.clients.push(deployer);
  emu = new TenantEmulator(fixture);
  actionsOf(emu).options = { buildPolls: Infinity, buildMs: Infinity };
  const origin = await emu.start();
  const envFile = path.join(TMP, 'env');
  fs.writeFileSync(envFile, [`AUTH0_DOMAIN=${origin}`, `AUTH0_CLIENT_ID=${deployer.client_id}`, `AUTH0_CLIENT_SECRET=${deployer.client_secret}`,
    `PROVISION_CLIENT_ID=${fixture.clients[0].client_id}`, `PROVISION_CLIENT_SECRET=${fixture.clients[0].client_secret}`].join('\n') + '\n');
  const action = path.join(TMP, 'action.js');
  fs.writeFileSync(action, 'exports.onExecutePostLogin = async () => {};\n');
  const out = [];
  const err = [];
  const code = await main(['--env-file', envFile, '--action', action, '--wait', '1'], {
    stdout: { write: (s) => out.push(s) }, stderr: { write: (s) => err.push(s) },
    env: { PATH: process.env.PATH, DEPLOY_POLICY_CHECKER: path.join(ROOT, 'target/release/policy') },
  });
  assert.equal(code, 1, err.join(''));
  assert.match(err.join(''), /^deploy failed: timed out after 1 s waiting for Auth0 to build the Action; re-run later \(it is idempotent\) or raise --wait\n$/m);
  assert.doesNotMatch(err.join(''), /\n\s+at /, 'no stack trace');
  assert.ok(!emu.requests.some((r) => r.path.includes('/bindings') && r.method === 'PATCH'), 'nothing bound');
  for (const s of [deployer.client_secret, fixture.clients[0].client_secret]) assert.ok(!out.join('').includes(s) && !err.join('').includes(s));
});
