'use strict';
// `npm run deploy` (pkg-scripts/deploy.js) run as a child process against the local tenant
// emulator: create, update, idempotent re-run, foreign bindings kept in order, undeploy,
// dry run (sends nothing), plan (reads only), scope and conflict errors, 429 retries, configuration errors before any request,
// and no secret in any output. Every Actions request and response the emulator saw is
// checked against the Management API OpenAPI subset.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile, execFileSync } = require('node:child_process');
const { SPEC, ajv, API_ERROR, ptr, schemaAt } = require('./openapi.js');

const { TenantEmulator } = require('../pkg-scripts/emulator/server.js');
const { actionsOf } = require('../pkg-scripts/emulator/actions-api.js');
const { backoffMs, retryAfterMs, scopeFor } = require('../pkg-scripts/deploy/client.js');
const { codeWithFingerprint } = require('../pkg-scripts/deploy/config.js');

const ROOT = path.resolve(__dirname, '..');
// The Action's own secret checks, built for the host (pkg-scripts/test.sh builds it first).
const POLICY_BIN = path.join(ROOT, 'target/release/policy');
const DEPLOY = path.join(ROOT, 'pkg-scripts/deploy.js');
const DIST = path.join(ROOT, 'dist/action.js');
const FIXTURE = JSON.parse(fs.readFileSync(path.join(ROOT, 'pkg-scripts/emulator/fixture.json'), 'utf8'));
const PROVISION = FIXTURE.clients[0];
const DEPLOYER = {
  client_id: 'deployer-m2m-client',
  // Random, as real secrets are: the secret scan flags any 8-character piece of one, and a
  // word such as "deployer" is also ordinary output.
  client_secret: 'Q5-j1zuUiNpVKtkDDKhgHq3E6Qk6qQlu',
  scopes: ['read:actions', 'create:actions', 'update:actions'],
};
const POLICY_FILE = path.join(ROOT, 'pkg-scripts/policies/premium-for-google.json');
const POLICY_TEXT = JSON.stringify(JSON.parse(fs.readFileSync(POLICY_FILE, 'utf8')));

// ---------------------------------------------------------------------------------------------
// The OpenAPI subset: requests and responses of the Actions operations are validated.
const TEMPLATES = [
  [/^\/api\/v2\/actions\/actions$/, '/actions/actions'],
  [/^\/api\/v2\/actions\/actions\/[^/]+\/deploy$/, '/actions/actions/{id}/deploy'],
  [/^\/api\/v2\/actions\/actions\/[^/]+$/, '/actions/actions/{id}'],
  [/^\/api\/v2\/actions\/triggers\/([^/]+)\/bindings$/, '/actions/triggers/{triggerId}/bindings'],
];

/** Validates every Actions request the emulator received, and its response, against the spec. */
function assertConformance(emu) {
  let checked = 0;
  for (const r of emu.requests) {
    const url = new URL(r.path, 'http://x');
    if (!url.pathname.startsWith('/api/v2/actions/')) continue;
    const hit = TEMPLATES.find(([re]) => re.test(url.pathname));
    assert.ok(hit, `no spec template for ${r.method} ${url.pathname}`);
    const tpl = hit[1];
    const m = r.method.toLowerCase();
    const op = SPEC.paths[tpl] && SPEC.paths[tpl][m];
    assert.ok(op, `the spec has no operation ${r.method} ${tpl}`);
    const what = `${r.method} ${tpl}`;
    // Query and path parameters: declared, and of the declared type.
    const params = op.parameters || [];
    for (const [k, v] of url.searchParams) {
      const p = params.find((x) => x.in === 'query' && x.name === k);
      assert.ok(p, `${what}: query parameter ${k} is not in the spec`);
      const type = p.schema.type;
      if (type === 'integer') assert.match(v, /^\d+$/, `${what}: ${k}=${v} is not an integer`);
      if (type === 'boolean') assert.match(v, /^(true|false)$/, `${what}: ${k}=${v}`);
    }
    if (tpl.includes('{triggerId}')) {
      const trig = decodeURIComponent(url.pathname.match(hit[0])[1]);
      assert.ok(SPEC.components.schemas.ActionTriggerTypeEnum.enum.includes(trig), `${what}: trigger ${trig}`);
    }
    // The request body.
    if (r.body !== undefined) {
      assert.ok(op.requestBody, `${what} takes no body in the spec`);
      const v = schemaAt(ptr('paths', tpl, m, 'requestBody', 'content', 'application/json', 'schema'));
      assert.ok(v(r.body), `request body of ${what} does not conform: ${ajv.errorsText(v.errors)}`);
    }
    // The response (injected faults included: they must look like Auth0's).
    if (r.status > 0) {
      // Not in the spec: 5xx (never documented) and 409 on a duplicate Action name (the spec
      // lists none for post_action; the emulator answers it like POST /roles and /users).
      const undocumentedOk = r.status >= 500 || (r.status === 409 && what === 'POST /actions/actions');
      assert.ok(op.responses[String(r.status)] || undocumentedOk, `${what}: status ${r.status} is not documented`);
      if (r.status >= 400) {
        assert.ok(API_ERROR(r.response), `${what} error body: ${ajv.errorsText(API_ERROR.errors)} ${JSON.stringify(r.response)}`);
      } else {
        const v = schemaAt(ptr('paths', tpl, m, 'responses', r.status, 'content', 'application/json', 'schema'));
        assert.ok(v(r.response), `response of ${what} (${r.status}) does not conform: ${ajv.errorsText(v.errors)}`);
        // Secret values are write-only.
        assert.ok(!JSON.stringify(r.response).includes(PROVISION.client_secret), `${what}: a secret value in a response`);
      }
    }
    checked++;
  }
  return checked;
}

// ---------------------------------------------------------------------------------------------
// Set-up: a copy of the built Action (so a concurrent rebuild cannot change it mid-test), a
// changed variant, and tenants with a deployer client and foreign Actions already bound.

let TMP;
let ACTION;
let ACTION_V2;
const outputs = []; // every stdout/stderr of every run, for the secret check
const emulators = [];

before(() => {
  if (!fs.existsSync(DIST)) execFileSync(process.execPath, [path.join(ROOT, 'pkg-scripts/build.js')], { cwd: ROOT, stdio: 'inherit' });
  TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-test-'));
  ACTION = path.join(TMP, 'action.js');
  ACTION_V2 = path.join(TMP, 'action-v2.js');
  fs.copyFileSync(DIST, ACTION);
  fs.writeFileSync(ACTION_V2, fs.readFileSync(DIST, 'utf8') + '// v2: a changed build\n');
});

after(async () => {
  for (const e of emulators) {
    for (const out of outputs) {
      for (const tok of e.tokens.keys()) assert.ok(!out.includes(tok), 'a token was printed');
    }
    await e.stop();
  }
  fs.rmSync(TMP, { recursive: true, force: true });
});

const clone = (x) => JSON.parse(JSON.stringify(x));

function fixture({ scopes = DEPLOYER.scopes, postLogin = ['audit-log', 'mfa-step-up'] } = {}) {
  const f = clone(FIXTURE);
  f.clients.push({ ...DEPLOYER, scopes });
  f.actions = [
    { name: 'audit-log', code: 'exports.onExecutePostLogin = async () => {};' },
    { name: 'mfa-step-up', code: 'exports.onExecutePostLogin = async (e, api) => {};' },
    { name: 'geo-block', code: 'exports.onExecutePostLogin = async () => {};' },
    { name: 'welcome-mail', supported_triggers: [{ id: 'post-user-registration', version: 'v2' }], code: 'exports.onExecutePostUserRegistration = async () => {};' },
  ];
  f.trigger_bindings = {
    'post-login': postLogin.map((n) => ({ action_name: n, display_name: n === 'audit-log' ? 'Audit log' : undefined })),
    'post-user-registration': [{ action_name: 'welcome-mail' }],
  };
  return f;
}

async function tenant(opts = {}) {
  const emu = new TenantEmulator(fixture(opts), opts.emulator || {});
  // Fast builds by default (built at the first poll); the create test uses the defaults.
  actionsOf(emu).options = opts.actionsOptions || { buildPolls: 0, buildMs: 0 };
  const origin = await emu.start();
  emulators.push(emu);
  return { emu, origin };
}

function envFile(origin, extra = {}) {
  const vars = {
    AUTH0_DOMAIN: origin,
    AUTH0_CLIENT_ID: DEPLOYER.client_id,
    AUTH0_CLIENT_SECRET: DEPLOYER.client_secret,
    PROVISION_CLIENT_ID: PROVISION.client_id,
    PROVISION_CLIENT_SECRET: PROVISION.client_secret,
    POLICY: POLICY_FILE,
    ...extra,
  };
  const file = path.join(TMP, `env-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, `# test tenant\n${Object.entries(vars).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}="${v.replace(/["\\]/g, '\\$&')}"`).join('\n')}\n`);
  return file;
}

/** Runs deploy.js; resolves {code, stdout, stderr, ms}. Only PATH is inherited: no stray AUTH0_* variables. */
function deploy(origin, args = [], { env = {}, vars = {}, action = ACTION } = {}) {
  const argv = [DEPLOY, '--no-build', '--env-file', envFile(origin, vars), ...(action ? ['--action', action] : []), ...args];
  const t0 = Date.now();
  return new Promise((resolve) => {
    // The built checker, named: a stale one would be rebuilt by cargo inside the 60 s timeout.
    execFile(process.execPath, argv, { cwd: ROOT, env: { PATH: process.env.PATH, DEPLOY_POLICY_CHECKER: POLICY_BIN, ...env }, timeout: 60000 }, (err, stdout, stderr) => {
      outputs.push(stdout, stderr);
      // With SECRET_SCAN_DIR (pkg-scripts/test.sh), the suite-wide scan covers these outputs too.
      if (process.env.SECRET_SCAN_DIR) {
        fs.appendFileSync(path.join(process.env.SECRET_SCAN_DIR, 'output.jsonl'),
          [stdout, stderr].filter(Boolean).map((text) => JSON.stringify({ kind: 'deploy', text }) + '\n').join(''));
      }
      resolve({ code: err ? err.code : 0, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

const writes = (emu, from = 0) => emu.requests.slice(from).filter((r) => r.method !== 'GET' && r.path !== '/oauth/token');
const routeOf = (r) => `${r.method} ${new URL(r.path, 'http://x').pathname.replace(/\/actions\/actions\/[^/]+/, '/actions/actions/{id}')}`;
const actionNamed = (emu, name) => [...actionsOf(emu).store().actions.values()].find((a) => a.name === name);

// ---------------------------------------------------------------------------------------------

describe('npm run deploy against the emulator', () => {
  test('create: a new Action with its secrets, built, deployed, appended after the bindings already there', async () => {
    // The first poll after each change sees `pending`, the next one `built`.
    const { emu, origin } = await tenant({ actionsOptions: { buildPolls: 1, buildMs: 60000 } });
    const r = await deploy(origin);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const a = actionNamed(emu, 'provision-access');
    assert.ok(a, 'the Action exists');
    assert.deepEqual(a.supported_triggers, [{ id: 'post-login', version: 'v3' }]);
    assert.equal(a.runtime, 'node22');
    assert.deepEqual(a.dependencies, []);
    assert.ok(a.code.startsWith(fs.readFileSync(ACTION, 'utf8')), 'the code is the built file (plus its fingerprint line)');
    assert.deepEqual(actionsOf(emu).secrets('provision-access'), {
      AUTH0_DOMAIN: origin,
      AUTH0_CLIENT_ID: PROVISION.client_id,
      AUTH0_CLIENT_SECRET: PROVISION.client_secret,
      POLICY: POLICY_TEXT,
    });
    assert.equal(a.deployed.number, 1);
    assert.equal(a.deployed.build.status, 'built');
    assert.equal(a.deployed.draft, a.draft, 'the deployed version is the current code');
    assert.deepEqual(actionsOf(emu).boundNames('post-login'), ['audit-log', 'mfa-step-up', 'provision-access']);
    assert.deepEqual(actionsOf(emu).boundNames('post-user-registration'), ['welcome-mail'], 'the other trigger is untouched');

    const seq = emu.requests.map(routeOf);
    assert.deepEqual(writes(emu).map(routeOf), [
      'POST /api/v2/actions/actions', 'POST /api/v2/actions/actions/{id}/deploy', 'PATCH /api/v2/actions/triggers/post-login/bindings',
    ]);
    const deployAt = seq.indexOf('POST /api/v2/actions/actions/{id}/deploy');
    const polls = emu.requests.filter((q) => routeOf(q) === 'GET /api/v2/actions/actions/{id}');
    assert.ok(polls.some((q) => q.response.status === 'pending'), 'it polled while the Action was pending');
    const lastPollBeforeDeploy = emu.requests.slice(0, deployAt).reverse().find((q) => routeOf(q) === 'GET /api/v2/actions/actions/{id}');
    assert.equal(lastPollBeforeDeploy.response.status, 'built', 'deployed only once built');
    assert.ok(emu.requests.slice(deployAt).some((q) => q.response && q.response.deployed_version && q.response.deployed_version.status === 'built'),
      'waited for the deployed version to be built');
    assert.ok(emu.requests.every((q) => q.status < 400), 'no request failed');
    assert.match(r.stdout, /created the Action provision-access/);
    assert.match(r.stdout, /bound to post-login: Audit log → mfa-step-up → provision-access/);
    assert.ok(assertConformance(emu) >= 6);
  });

  test('update: changed code → PATCH and a new deploy; changed POLICY → PATCH of the secrets; bindings left alone', async () => {
    const { emu, origin } = await tenant();
    assert.equal((await deploy(origin)).code, 0);
    const before = emu.requests.length;
    const r = await deploy(origin, [], { action: ACTION_V2 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(writes(emu, before).map(routeOf), ['PATCH /api/v2/actions/actions/{id}', 'POST /api/v2/actions/actions/{id}/deploy']);
    const patch = writes(emu, before)[0];
    assert.deepEqual(Object.keys(patch.body).sort(), ['code', 'dependencies', 'runtime', 'secrets', 'supported_triggers']);
    assert.match(r.stdout, /updated the Action provision-access \(code\)/);
    const a = actionNamed(emu, 'provision-access');
    assert.ok(a.code.includes('// v2: a changed build'));
    assert.equal(a.deployed.number, 2);
    assert.equal(a.deployed.draft, a.draft);

    const before2 = emu.requests.length;
    const policy = { on_error: 'deny', rules: [{ name: 'all', assign_roles: ['Premium User'] }] };
    const r2 = await deploy(origin, [], { action: ACTION_V2, vars: { POLICY: JSON.stringify(policy) } });
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /updated the Action provision-access \(secrets\)/);
    assert.deepEqual(writes(emu, before2).map(routeOf), ['PATCH /api/v2/actions/actions/{id}', 'POST /api/v2/actions/actions/{id}/deploy']);
    assert.equal(actionsOf(emu).secrets('provision-access').POLICY, JSON.stringify(policy));
    assert.equal(actionNamed(emu, 'provision-access').deployed.number, 3);
    assert.deepEqual(actionsOf(emu).boundNames('post-login'), ['audit-log', 'mfa-step-up', 'provision-access'], 'bound once');
    assertConformance(emu);
  });

  test('idempotent: a second run sends no change and says so', async () => {
    const { emu, origin } = await tenant();
    assert.equal((await deploy(origin)).code, 0);
    const before = emu.requests.length;
    const r = await deploy(origin);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(writes(emu, before), [], 'no mutating request');
    assert.deepEqual([...new Set(emu.requests.slice(before).map((q) => q.method))].sort(), ['GET', 'POST']);
    assert.match(r.stdout, /provision-access \(post-login\): up to date, deployed \(version 1\) and bound — nothing to change/);
    assert.match(r.stdout, /nothing to change: only reads were sent/);
    // A secret rotated on our side is a change, though Auth0 never shows secret values.
    const r2 = await deploy(origin, [], { vars: { PROVISION_CLIENT_SECRET: 'rotated-secret-value-0123456789' } });
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /updated the Action provision-access \(secrets\)/);
    assert.equal(actionsOf(emu).secrets('provision-access').AUTH0_CLIENT_SECRET, 'rotated-secret-value-0123456789');
    assert.ok(!r2.stdout.includes('rotated-secret-value-0123456789') && !r2.stderr.includes('rotated-secret-value-0123456789'));
  });

  test('an Action updated but never deployed (an interrupted run) is deployed by the next run', async () => {
    const { emu, origin } = await tenant();
    assert.equal((await deploy(origin)).code, 0);
    emu.injectFault({ method: 'POST', path: /\/deploy$/, status: 400, body: { statusCode: 400, error: 'Bad Request', message: 'Injected failure', errorCode: 'invalid_body' } });
    const r = await deploy(origin, [], { action: ACTION_V2 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /POST \/api\/v2\/actions\/actions\/[^/]+\/deploy: HTTP 400 invalid_body \(Injected failure\)/);
    const a = actionNamed(emu, 'provision-access');
    assert.notEqual(a.deployed.draft, a.draft, 'the change is not deployed');
    const before = emu.requests.length;
    const r2 = await deploy(origin, [], { action: ACTION_V2 });
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(writes(emu, before).map(routeOf), ['POST /api/v2/actions/actions/{id}/deploy']);
    assert.equal(a.deployed.draft, a.draft);
  });

  test('foreign bindings are kept, in order, across pages, with their display names; ours appended once', async () => {
    const { emu, origin } = await tenant({ postLogin: ['audit-log', 'mfa-step-up', 'geo-block'], actionsOptions: { buildPolls: 0, buildMs: 0, maxPerPage: 2 } });
    const ids = actionsOf(emu).store().bindings['post-login'].map((b) => b.id);
    const r = await deploy(origin);
    assert.equal(r.code, 0, r.stderr);
    const pages = emu.requests.filter((q) => q.path.startsWith('/api/v2/actions/triggers/post-login/bindings?'));
    assert.ok(pages.length >= 2, 'read the bindings page by page');
    const patch = writes(emu).find((q) => q.method === 'PATCH' && q.path.includes('/bindings'));
    const byName = (n) => actionNamed(emu, n).id;
    assert.deepEqual(patch.body.bindings, [
      { ref: { type: 'action_id', value: byName('audit-log') }, display_name: 'Audit log' },
      { ref: { type: 'action_id', value: byName('mfa-step-up') }, display_name: 'mfa-step-up' },
      { ref: { type: 'action_id', value: byName('geo-block') }, display_name: 'geo-block' },
      { ref: { type: 'action_id', value: byName('provision-access') }, display_name: 'provision-access' },
    ]);
    assert.deepEqual(actionsOf(emu).boundNames('post-login'), ['audit-log', 'mfa-step-up', 'geo-block', 'provision-access']);
    assert.deepEqual(actionsOf(emu).store().bindings['post-login'].slice(0, 3).map((b) => b.id), ids, 'the foreign bindings are the same bindings');
    assert.equal((await deploy(origin)).code, 0);
    assert.deepEqual(actionsOf(emu).boundNames('post-login'), ['audit-log', 'mfa-step-up', 'geo-block', 'provision-access']);
    assertConformance(emu);
  });

  test('both triggers: one Action each (Auth0 Actions target one trigger), each appended to its own flow', async () => {
    const { emu, origin } = await tenant();
    const r = await deploy(origin, ['--trigger', 'post-login', '--trigger', 'post-user-registration', '--name', 'prov']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(actionNamed(emu, 'prov').supported_triggers, [{ id: 'post-login', version: 'v3' }]);
    assert.deepEqual(actionNamed(emu, 'prov-post-user-registration').supported_triggers, [{ id: 'post-user-registration', version: 'v2' }]);
    assert.deepEqual(actionsOf(emu).boundNames('post-login'), ['audit-log', 'mfa-step-up', 'prov']);
    assert.deepEqual(actionsOf(emu).boundNames('post-user-registration'), ['welcome-mail', 'prov-post-user-registration']);
    assertConformance(emu);
  });

  test('undeploy: removes only our binding, keeps the others in order and the Action', async () => {
    const { emu, origin } = await tenant();
    assert.equal((await deploy(origin)).code, 0);
    actionsOf(emu).store().bindings['post-login'].push({ ...actionsOf(emu).store().bindings['post-login'][0], id: 'b-after-ours' }); // a foreign one after ours
    const before = emu.requests.length;
    const r = await deploy(origin, ['--undeploy']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(writes(emu, before).map(routeOf), ['PATCH /api/v2/actions/triggers/post-login/bindings']);
    assert.deepEqual(actionsOf(emu).boundNames('post-login'), ['audit-log', 'mfa-step-up', 'audit-log']);
    assert.ok(actionNamed(emu, 'provision-access'), 'the Action is kept');
    assert.match(r.stdout, /unbound from post-login; kept: Audit log → mfa-step-up → Audit log/);
    const before2 = emu.requests.length;
    const r2 = await deploy(origin, ['--undeploy']);
    assert.equal(r2.code, 0);
    assert.deepEqual(writes(emu, before2), []);
    assert.match(r2.stdout, /not bound — nothing to undeploy/);
    assertConformance(emu);
  });

  test('--dry-run sends no request at all (not even the token request) and prints, in order, every request a real run would send', async () => {
    const { emu, origin } = await tenant();
    const r = await deploy(origin, ['--dry-run', '--verbose']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(emu.requests.length, 0, 'the emulator received not one request');
    assert.match(r.stdout, /dry run: no request is sent/);
    assert.match(r.stdout, /dry run: sent no request \(not even the token request\)/);
    const lines = r.stdout.split('\n');
    const at = (re) => {
      const i = lines.findIndex((l) => re.test(l));
      assert.ok(i >= 0, `${re} in:\n${r.stdout}`);
      return i;
    };
    const order = [
      at(/^1\. POST \/oauth\/token \{"grant_type":"client_credentials","client_id":"deployer-m2m-client","client_secret":"\*\*\*","audience":"http:\/\/[^"]+\/api\/v2\/"\}$/),
      at(/^\d+\. GET \/api\/v2\/actions\/actions\?actionName=provision-access&page=0&per_page=50 /),
      at(/^\d+\. if it exists: GET \/api\/v2\/actions\/actions\/\{id\} /),
      at(/^\d+\. GET \/api\/v2\/actions\/triggers\/post-login\/bindings\?page=0&per_page=50 /),
      at(/^\d+\. if no Action named provision-access exists: POST \/api\/v2\/actions\/actions \{"name":"provision-access","code":"<\d+ bytes, sha256 [0-9a-f]{16}…>"/),
      at(/^ +otherwise, if its code or secrets .*differ: PATCH \/api\/v2\/actions\/actions\/\{id\} \{"code":"<\d+ bytes, sha256 [0-9a-f]{16}…>"/),
      at(/^\d+\. .*POST \/api\/v2\/actions\/actions\/\{id\}\/deploy.*then poll GET \/api\/v2\/actions\/actions\/\{id\} until the deployed version is built/),
      at(/^\d+\. if provision-access is not bound to post-login yet: PATCH \/api\/v2\/actions\/triggers\/post-login\/bindings \{"bindings":\[…the current post-login bindings.*\{"ref":\{"type":"action_id","value":"\{id\}"\},"display_name":"provision-access"\}\]\} — the current bindings plus ours \(appended once\)/),
    ];
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'printed in the order a real run sends them');
    const masked = '"secrets":[{"name":"AUTH0_DOMAIN","value":"***"},{"name":"AUTH0_CLIENT_ID","value":"***"},{"name":"AUTH0_CLIENT_SECRET","value":"***"},{"name":"POLICY","value":"***"}]';
    assert.equal(r.stdout.split(masked).length - 1, 2, 'the create and the update bodies, secrets masked');
    for (const s of [PROVISION.client_secret, PROVISION.client_id, DEPLOYER.client_secret, POLICY_TEXT]) {
      assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `a secret value was printed: ${s}`);
    }

    // Whatever the tenant holds, a dry run reads none of it: after a deploy, still nothing sent.
    assert.equal((await deploy(origin)).code, 0);
    const before = emu.requests.length;
    const r2 = await deploy(origin, ['--dry-run', '--undeploy'], { action: ACTION_V2 });
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(emu.requests.length, before, 'not one request');
    assert.match(r2.stdout, /^\d+\. if provision-access is bound to post-login: PATCH \/api\/v2\/actions\/triggers\/post-login\/bindings .* the current bindings minus ours/m);
    assert.doesNotMatch(r2.stdout, /POST \/api\/v2\/actions\/actions/, 'undeploy never creates or deploys');

    // It fails like a real run on bad input, and --dry-run with --plan is a usage error.
    const bad = await deploy(origin, ['--dry-run'], { vars: { POLICY: '{"on_error": "allow"}' } });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /POLICY: rules: missing; expected a list of rules/);
    const both = await deploy(origin, ['--dry-run', '--plan']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--dry-run and --plan exclude each other/);
    assert.equal(emu.requests.length, before, 'not one request');
  });

  test('--plan sends only the token request and GETs, never a change, and prints the exact changes with secrets masked', async () => {
    const { emu, origin } = await tenant();
    const r = await deploy(origin, ['--plan', '--verbose']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(writes(emu), [], 'no mutating request');
    assert.ok(emu.requests.every((q) => q.method === 'GET' || q.path === '/oauth/token'));
    assert.ok(emu.requests.some((q) => q.path === '/oauth/token') && emu.requests.some((q) => q.method === 'GET'), 'it did read');
    assert.equal(actionNamed(emu, 'provision-access'), undefined);
    assert.deepEqual(actionsOf(emu).boundNames('post-login'), ['audit-log', 'mfa-step-up']);
    assert.match(r.stdout, /would send POST \/api\/v2\/actions\/actions\n/);
    assert.match(r.stdout, /"secrets":\[\{"name":"AUTH0_DOMAIN","value":"\*\*\*"\},\{"name":"AUTH0_CLIENT_ID","value":"\*\*\*"\},\{"name":"AUTH0_CLIENT_SECRET","value":"\*\*\*"\},\{"name":"POLICY","value":"\*\*\*"\}\]/);
    assert.match(r.stdout, /would send POST \/api\/v2\/actions\/actions\/<id of the new action>\/deploy/);
    assert.match(r.stdout, /would send PATCH \/api\/v2\/actions\/triggers\/post-login\/bindings/);
    assert.ok(r.stdout.includes(`"display_name":"Audit log"},{"ref":{"type":"action_id","value":"${actionNamed(emu, 'mfa-step-up').id}"}`));
    assert.match(r.stdout, /plan: nothing was changed \(sent only the token request and \d+ GETs\)/);
    for (const s of [PROVISION.client_secret, DEPLOYER.client_secret, POLICY_TEXT]) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s));

    // After a deploy, a plan with new code plans the update only.
    assert.equal((await deploy(origin)).code, 0);
    const before = emu.requests.length;
    const r2 = await deploy(origin, ['--plan'], { action: ACTION_V2 });
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(writes(emu, before), []);
    assert.match(r2.stdout, /provision-access \(post-login\): would update \(code\)/);
    assert.doesNotMatch(r2.stdout, /bindings/, 'already bound: no binding change planned');
  });

  test('a missing scope is named before anything is changed (create:actions), and a 403 names the scope of its request', async () => {
    const { emu, origin } = await tenant({ scopes: ['read:actions', 'update:actions'] });
    const r = await deploy(origin);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /lacks the scope create:actions/);
    assert.match(r.stderr, /Nothing was changed/);
    assert.deepEqual(writes(emu), []);

    const t2 = await tenant();
    t2.emu.injectFault({ method: 'PATCH', path: '/api/v2/actions/triggers/', status: 403, times: Infinity,
      body: { statusCode: 403, error: 'Forbidden', message: 'Insufficient scope, expected any of: update:actions', errorCode: 'insufficient_scope' } });
    const r2 = await deploy(t2.origin);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /PATCH \/api\/v2\/actions\/triggers\/post-login\/bindings: HTTP 403 insufficient_scope .*lacks the scope update:actions/);
    assert.equal(t2.emu.requests.filter((q) => q.status === 403).length, 1, 'a 403 is not retried');
    assertConformance(t2.emu);

    const t3 = await tenant({ scopes: ['create:actions', 'update:actions'] });
    const r3 = await deploy(t3.origin);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /read:actions/);
  });

  test('bad deployer credentials (401) and a name conflict (409) give clear errors', async () => {
    const { emu, origin } = await tenant();
    const r = await deploy(origin, [], { vars: { AUTH0_CLIENT_SECRET: 'wrong-deployer-secret' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /POST \/oauth\/token: HTTP 401 access_denied .*check AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET/);
    assert.ok(!r.stderr.includes('wrong-deployer-secret'));
    emu.injectFault({ method: 'POST', path: '/api/v2/actions/actions', status: 409,
      body: { statusCode: 409, error: 'Conflict', message: "An action with the name 'provision-access' already exists.", errorCode: 'action_conflict' } });
    const r2 = await deploy(origin);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /POST \/api\/v2\/actions\/actions: HTTP 409 action_conflict .*conflict: another Action already has this name/);
    assertConformance(emu);
  });

  test('429 and 503 are retried with the Action\'s rules (Retry-After honoured), then succeed', async () => {
    const { emu, origin } = await tenant();
    emu.injectFault({ method: 'PATCH', path: '/api/v2/actions/triggers/', status: 429, headers: { 'retry-after': '1' } });
    emu.injectFault({ method: 'GET', path: '/api/v2/actions/actions', status: 503 });
    const r = await deploy(origin);
    assert.equal(r.code, 0, r.stderr);
    const patches = emu.requests.filter((q) => q.method === 'PATCH' && q.path.includes('/bindings'));
    assert.deepEqual(patches.map((q) => q.status), [429, 200]);
    assert.ok(patches[1].t - patches[0].t >= 950, `waited for Retry-After: ${patches[1].t - patches[0].t} ms`);
    assert.match(r.stdout, /PATCH \/api\/v2\/actions\/triggers\/post-login\/bindings: HTTP 429; retrying in 1\.0 s \(attempt 2 of 4\)/);
    assert.match(r.stdout, /GET \/api\/v2\/actions\/actions: HTTP 503; retrying in 0\.[123] s \(attempt 2 of 4\)/);
    assert.deepEqual(actionsOf(emu).boundNames('post-login'), ['audit-log', 'mfa-step-up', 'provision-access']);
    assertConformance(emu);

    const t2 = await tenant();
    t2.emu.injectFault({ method: 'GET', path: '/api/v2/actions/actions', status: 429, times: Infinity, headers: { 'retry-after': '0' } });
    const r2 = await deploy(t2.origin);
    assert.equal(r2.code, 1);
    assert.equal(t2.emu.requests.filter((q) => q.status === 429).length, 4, 'at most 4 attempts');
    assert.match(r2.stderr, /HTTP 429 too_many_requests .*still rate limited after 4 attempts/);
  });

  test('checked before any request: policy JSON, rules, the 4096-character limit, the 100 kB code limit, the variables', async () => {
    const { emu, origin } = await tenant();
    const cases = [
      [{ vars: { POLICY: '{"rules": [' } }, /the policy is not valid JSON/],
      [{ vars: { POLICY: '{"on_error": "allow"}' } }, /POLICY: rules: missing; expected a list of rules/],
      [{ vars: { POLICY: JSON.stringify({ rules: [{ name: 'x'.repeat(4100) }] }) } }, /4096[\s\S]*npm run build -- --policy FILE/],
      [{ vars: { POLICY: path.join(TMP, 'no-such-policy.json') } }, /cannot read the policy file/],
      [{ vars: { PROVISION_CLIENT_SECRET: undefined } }, /PROVISION_CLIENT_SECRET is not set/],
      [{ vars: { AUTH0_DOMAIN: 'http://tenant.example.com' } }, /http:\/\/ is only allowed for loopback/],
      [{ vars: { TIMEOUT_MS: 'soon' } }, /TIMEOUT_MS: must be a whole number of milliseconds, at least 100/],
      [{ vars: { PROVISION_CLIENT_SECRET: '##PROVISION_CLIENT_SECRET##' } }, /PROVISION_CLIENT_SECRET \(the Action's AUTH0_CLIENT_SECRET\): is an unresolved Deploy CLI keyword: add PROVISION_CLIENT_SECRET to AUTH0_KEYWORD_REPLACE_MAPPINGS/],
    ];
    const big = path.join(TMP, 'big.js');
    fs.writeFileSync(big, `exports.onExecutePostLogin=1;exports.onExecutePostUserRegistration=1;/*${'x'.repeat(100000)}*/`);
    cases.push([{ action: big }, /is 100\d{3} bytes: Auth0 takes at most 100000 bytes/]);
    for (const [opts, re] of cases) {
      const r = await deploy(origin, [], opts);
      assert.equal(r.code, 1, `${re}: ${r.stdout}`);
      assert.match(r.stderr, re);
    }
    // --plan checks first too: a Deploy CLI keyword left in a value stops it before the token request.
    const plan = await deploy(origin, ['--plan'], { vars: { PROVISION_CLIENT_SECRET: '##PROVISION_CLIENT_SECRET##', TIMEOUT_MS: '##PROVISION_TIMEOUT##' } });
    assert.equal(plan.code, 1, plan.stdout);
    assert.match(plan.stderr, /PROVISION_CLIENT_SECRET \(the Action's AUTH0_CLIENT_SECRET\): is an unresolved Deploy CLI keyword: add PROVISION_CLIENT_SECRET to AUTH0_KEYWORD_REPLACE_MAPPINGS/);
    assert.match(plan.stderr, /TIMEOUT_MS: is an unresolved Deploy CLI keyword: add PROVISION_TIMEOUT to AUTH0_KEYWORD_REPLACE_MAPPINGS/);
    assert.doesNotMatch(plan.stdout, /^tenant:/m, 'nothing about the tenant: it never got that far');
    assert.equal(emu.requests.length, 0, 'not one request');
    const usage = await deploy(origin, ['--trigger', 'pre-login']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--trigger pre-login: must be one of post-login, post-user-registration/);
  });

  test('the Action\'s own checks (`policy check-secrets`) run before any request; their rejection stops the deploy', async () => {
    const { emu, origin } = await tenant();
    const r = await deploy(origin, [], { vars: { POLICY: '{"rules":[{"name":"g","when":{"providr":"google-oauth2"},"assign_roles":["Premium User"]}]}' } });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /the Action's secrets: `policy check-secrets` \(the checks the Action runs at every login\) found 1 error\(s\):\n {2}POLICY: rules\[0\]\.when\.providr: unknown key[^\n]*\n {4}hint: check the spelling/);
    assert.equal(emu.requests.length, 0);
    const ok = await deploy(origin, ['--dry-run']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /POLICY from .*premium-for-google\.json, \d+ chars, 1 rule\(s\)\); checked by `policy check-secrets` \(policy\): deadline 8000 ms/);
    // No checker, no deploy: unchecked secrets would fail at every login instead.
    const none = await deploy(origin, ['--dry-run'], { env: { DEPLOY_POLICY_CHECKER: path.join(TMP, 'no-such-checker') } });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /DEPLOY_POLICY_CHECKER=.*no-such-checker: no such file/);
    const broken = path.join(TMP, 'broken-checker');
    fs.writeFileSync(broken, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    const failed = await deploy(origin, ['--dry-run'], { env: { DEPLOY_POLICY_CHECKER: broken } });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /cannot check the deployer's tenant: `broken-checker check-secrets` exited 3/);
    assert.equal(emu.requests.length, 0, 'not one request');
  });

  test('the default code is dist/action.js; --no-build uses it even when stale', async () => {
    const { emu, origin } = await tenant();
    const r = await deploy(origin, ['--dry-run'], { action: null });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /code: dist\/action\.js \(\d+ bytes\)/);
    assert.deepEqual(writes(emu), []);
  });
});

describe('deploy helpers', () => {
  test('backoff: Retry-After, else x-ratelimit-reset, else jittered exponential; clamped to 4 s (as src/core/retry.rs)', () => {
    const NOW = 1_700_000_000_000;
    assert.equal(backoffMs(1, '2', '0', NOW, 0.5), 2000);
    assert.equal(backoffMs(1, 'Tue, 14 Nov 2023 22:13:21 GMT', null, NOW, 0.5), 1000);
    assert.equal(backoffMs(1, '3600', null, NOW, 0.5), 4000);
    assert.equal(backoffMs(1, null, String(NOW / 1000 + 1), NOW, 0.5), 1050);
    assert.equal(backoffMs(1, 'garbage', 'also garbage', NOW, 0), 125);
    assert.equal(backoffMs(1, null, String(NOW / 1000 - 10), NOW, 0.5), 0);
    assert.equal(backoffMs(1, null, null, NOW, 1), 250);
    assert.equal(backoffMs(3, null, null, NOW, 1), 1000);
    assert.equal(backoffMs(30, null, null, NOW, 1), 4000);
    assert.equal(retryAfterMs('Sun, 06 Nov 1994 08:49:37 PST', NOW), null);
  });

  test('scopes per operation follow the spec', () => {
    // The operations deploy.js sends (TEMPLATES); the spec has Actions reads it never makes.
    for (const [tpl, ops] of TEMPLATES.map(([, t]) => [t, SPEC.paths[t]])) {
      for (const [m, op] of Object.entries(ops)) {
        if (m === 'delete') continue;
        const want = op.security.find((s) => s.oAuth2ClientCredentials).oAuth2ClientCredentials[0];
        const concrete = '/api/v2' + tpl.replace('{id}', 'abc').replace('{triggerId}', 'post-login');
        assert.equal(scopeFor(m.toUpperCase(), concrete), want, `${m} ${tpl}`);
      }
    }
  });

  test('the fingerprint changes with any secret value and fits on one comment line', () => {
    const s = [{ name: 'A', value: '1' }, { name: 'B', value: '2' }];
    const a = codeWithFingerprint('code\n', s);
    assert.match(a, /^code\n\/\* deployed by npm run deploy; secrets fingerprint [0-9a-f]{32} \*\/\n$/);
    assert.equal(codeWithFingerprint('code\n', [...s].reverse()), a, 'order-independent');
    assert.notEqual(codeWithFingerprint('code\n', [{ name: 'A', value: '1' }, { name: 'B', value: '3' }]), a);
    assert.ok(!a.includes('"1"'));
  });

  test('no run printed a client secret (deployer or provisioning) or the policy', () => {
    assert.ok(outputs.length >= 40, `runs captured: ${outputs.length / 2}`);
    for (const out of outputs) {
      for (const s of [DEPLOYER.client_secret, PROVISION.client_secret, POLICY_TEXT]) assert.ok(!out.includes(s), `secret printed:\n${out}`);
    }
  });
});
