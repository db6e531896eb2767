'use strict';
// `npm run export` (pkg-scripts/export.js): the Auth0 Deploy CLI directory format (JSON
// parsed, code paths resolved the way the Deploy CLI resolves them, keyword replacement
// applied) and Terraform (parsed by a real HCL2 parser, hcl2-parser: HashiCorp's hcl/v2
// compiled to JavaScript). No credential may be written.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');
const Ajv2020 = require('ajv/dist/2020');
const hcl = require('hcl2-parser');

const ROOT = path.resolve(__dirname, '..');
const EXPORT = path.join(ROOT, 'pkg-scripts/export.js');
const DIST = path.join(ROOT, 'dist/action.js');
const POLICY_FILE = path.join(ROOT, 'pkg-scripts/policies/premium-for-google.json');
const POLICY_TEXT = JSON.stringify(JSON.parse(fs.readFileSync(POLICY_FILE, 'utf8')));
const SECRETS = { PROVISION_CLIENT_SECRET: 'export-test-provision-secret-71c2', AUTH0_CLIENT_SECRET: 'export-test-deployer-secret-93ab' };

const SPEC = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/management-api-v2.subset.openapi.json'), 'utf8'));
const SPEC_ID = 'https://emulator.test/management-api-v2.subset.openapi.json';
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema({ ...SPEC, $id: SPEC_ID });
const CREATE_ACTION = ajv.compile({ $ref: `${SPEC_ID}#/components/schemas/CreateActionRequestContent` });

let TMP;
let ACTION;
let CODE;

before(() => {
  if (!fs.existsSync(DIST)) execFileSync(process.execPath, [path.join(ROOT, 'pkg-scripts/build.js')], { cwd: ROOT, stdio: 'inherit' });
  TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'export-test-'));
  ACTION = path.join(TMP, 'action.js');
  fs.copyFileSync(DIST, ACTION);
  CODE = fs.readFileSync(ACTION, 'utf8');
});
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

/** Runs export.js with an env file holding credentials too (they must not be written). */
function runExport(args, vars = {}) {
  const envFile = path.join(TMP, `env-${Math.random().toString(36).slice(2)}`);
  const all = {
    AUTH0_DOMAIN: 'deployer-tenant.eu.auth0.com', AUTH0_CLIENT_ID: 'deployer-id', PROVISION_CLIENT_ID: 'provision-id',
    POLICY: POLICY_FILE, TIMEOUT_MS: '5000', ...SECRETS, ...vars,
  };
  fs.writeFileSync(envFile, Object.entries(all).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const r = spawnSync(process.execPath, [EXPORT, '--env-file', envFile, '--action', ACTION, ...args],
    { cwd: ROOT, env: { PATH: process.env.PATH, DEPLOY_POLICY_CHECKER: path.join(ROOT, 'target/release/policy') }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function filesUnder(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}

function assertNoCredentials(dir, outputs) {
  for (const f of filesUnder(dir)) {
    const text = fs.readFileSync(f, 'utf8');
    for (const s of Object.values(SECRETS)) assert.ok(!text.includes(s), `${path.relative(dir, f)} contains a credential`);
  }
  for (const o of outputs) for (const s of Object.values(SECRETS)) assert.ok(!o.includes(s), 'a credential was printed');
}

// The Deploy CLI's keyword replacement (##KEY## → value, "@@KEY@@"/@@KEY@@ → JSON), as in
// auth0-deploy-cli src/tools/utils.ts.
function keywordReplace(input, mappings) {
  let out = input;
  for (const [k, v] of Object.entries(mappings)) out = out.replace(new RegExp(`"@@${k}@@"|@@${k}@@`, 'g'), JSON.stringify(v));
  for (const [k, v] of Object.entries(mappings)) out = out.replace(new RegExp(`##${k}##`, 'g'), v);
  return out;
}

// The Deploy CLI's DirectoryContext.loadFile(f, folder): relative to <input>/<folder> first,
// else as given (relative to the working directory, which the README says is OUT_DIR).
function deployCliLoad(input, folder, f, cwd) {
  const first = path.join(input, folder, f);
  if (fs.existsSync(first) && fs.statSync(first).isFile()) return first;
  return path.resolve(cwd, f);
}

function hclParse(text, what) {
  const [obj, err] = hcl.parseToObject(text);
  assert.ok(obj && !err, `${what} does not parse as HCL: ${JSON.stringify(err)}`);
  return obj;
}

describe('npm run export -- --format deploy-cli', () => {
  test('actions/<name>.json + actions/<name>/code.js + triggers/triggers.json, secrets as ##KEYWORD## placeholders', () => {
    const out = path.join(TMP, 'deploy-cli');
    const r = runExport(['--format', 'deploy-cli', '--trigger', 'post-login', '--trigger', 'post-user-registration', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /triggers\/triggers\.json replaces EVERY binding of the triggers it lists \(post-login, post-user-registration\)/);
    const rel = filesUnder(out).map((f) => path.relative(out, f)).sort();
    assert.deepEqual(rel, ['README.md', 'actions/provision-access-post-user-registration.json', 'actions/provision-access-post-user-registration/code.js',
      'actions/provision-access.json', 'actions/provision-access/code.js', 'triggers/triggers.json']);

    const mappings = { PROVISION_DOMAIN: 'tenant.eu.auth0.com', PROVISION_CLIENT_ID: 'the-client-id', PROVISION_CLIENT_SECRET: 'the-client-secret' };
    for (const [name, trigger, version] of [['provision-access', 'post-login', 'v3'], ['provision-access-post-user-registration', 'post-user-registration', 'v2']]) {
      const raw = fs.readFileSync(path.join(out, `actions/${name}.json`), 'utf8');
      const a = JSON.parse(raw);
      assert.deepEqual(Object.keys(a), ['name', 'code', 'runtime', 'dependencies', 'secrets', 'supported_triggers', 'deployed']);
      assert.equal(a.name, name);
      assert.equal(a.code, `./actions/${name}/code.js`);
      assert.equal(a.runtime, 'node22');
      assert.deepEqual(a.dependencies, []);
      assert.equal(a.deployed, true);
      assert.deepEqual(a.supported_triggers, [{ id: trigger, version }]);
      assert.deepEqual(a.secrets, [
        { name: 'AUTH0_DOMAIN', value: '##PROVISION_DOMAIN##' },
        { name: 'AUTH0_CLIENT_ID', value: '##PROVISION_CLIENT_ID##' },
        { name: 'AUTH0_CLIENT_SECRET', value: '##PROVISION_CLIENT_SECRET##' },
        { name: 'POLICY', value: POLICY_TEXT },
        { name: 'TIMEOUT_MS', value: '5000' },
      ]);

      // As the Deploy CLI loads it (run from OUT_DIR, as the README says): keywords replaced,
      // code loaded from the file, and the result is a valid create-action request.
      const replaced = JSON.parse(keywordReplace(raw, mappings));
      assert.deepEqual(replaced.secrets.slice(0, 3).map((s) => s.value), ['tenant.eu.auth0.com', 'the-client-id', 'the-client-secret']);
      const codeFile = deployCliLoad(out, path.join('actions', name), a.code, out);
      assert.equal(codeFile, path.join(out, 'actions', name, 'code.js'));
      const code = keywordReplace(fs.readFileSync(codeFile, 'utf8'), mappings);
      assert.equal(code, CODE, 'code.js is dist/action.js, untouched by keyword replacement');
      const { deployed, ...body } = { ...replaced, code };
      assert.ok(CREATE_ACTION(body), ajv.errorsText(CREATE_ACTION.errors));
    }
    const triggers = JSON.parse(fs.readFileSync(path.join(out, 'triggers/triggers.json'), 'utf8'));
    assert.deepEqual(triggers, {
      'post-login': [{ action_name: 'provision-access', display_name: 'provision-access' }],
      'post-user-registration': [{ action_name: 'provision-access-post-user-registration', display_name: 'provision-access-post-user-registration' }],
    });
    const readme = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
    assert.match(readme, /##PROVISION_CLIENT_SECRET##/);
    assert.match(readme, /replaces EVERY binding/);
    assertNoCredentials(out, [r.stdout, r.stderr]);
  });

  test('without a POLICY the secret is left out (with a warning); a non-empty OUT_DIR needs --force', () => {
    const out = path.join(TMP, 'deploy-cli-nopolicy');
    const r = runExport(['--format', 'deploy-cli', out], { POLICY: undefined, TIMEOUT_MS: undefined });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no POLICY given/);
    const a = JSON.parse(fs.readFileSync(path.join(out, 'actions/provision-access.json'), 'utf8'));
    assert.deepEqual(a.secrets.map((s) => s.name), ['AUTH0_DOMAIN', 'AUTH0_CLIENT_ID', 'AUTH0_CLIENT_SECRET']);
    const again = runExport(['--format', 'deploy-cli', out]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not empty \(use --force/);
    assert.equal(runExport(['--format', 'deploy-cli', '--force', out]).code, 0);
  });
});

describe('npm run export -- --format terraform', () => {
  test('auth0_action (code via file(), secrets from variables, deploy, node22, trigger) + auth0_trigger_actions + variables.tf, parsed as HCL', () => {
    const out = path.join(TMP, 'terraform');
    const r = runExport(['--format', 'terraform', '--trigger', 'post-login', '--trigger', 'post-user-registration', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /NOTE: auth0_trigger_actions owns EVERY binding of its trigger/);
    const main = hclParse(fs.readFileSync(path.join(out, 'main.tf'), 'utf8'), 'main.tf');
    const vars = hclParse(fs.readFileSync(path.join(out, 'variables.tf'), 'utf8'), 'variables.tf');

    assert.deepEqual(main.terraform[0].required_providers[0].auth0, { source: 'auth0/auth0', version: '>= 1.0.0' });
    const actions = main.resource.auth0_action;
    assert.deepEqual(Object.keys(actions).sort(), ['provision_access', 'provision_access_post_user_registration']);
    const referenced = new Set();
    for (const [id, name, trigger, version] of [['provision_access', 'provision-access', 'post-login', 'v3'],
      ['provision_access_post_user_registration', 'provision-access-post-user-registration', 'post-user-registration', 'v2']]) {
      const a = actions[id][0];
      assert.equal(a.name, name);
      assert.equal(a.runtime, 'node22');
      assert.equal(a.deploy, true);
      assert.deepEqual(a.supported_triggers, [{ id: trigger, version }]);
      const m = /^\$\{file\("\$\{path\.module\}\/([^"]+)"\)\}$/.exec(a.code);
      assert.ok(m, `code is file("\${path.module}/…"): ${a.code}`);
      assert.equal(fs.readFileSync(path.join(out, m[1]), 'utf8'), CODE, 'the file() path resolves to the exported code');
      assert.deepEqual(a.secrets.map((s) => s.name), ['AUTH0_DOMAIN', 'AUTH0_CLIENT_ID', 'AUTH0_CLIENT_SECRET', 'POLICY', 'TIMEOUT_MS']);
      assert.deepEqual(a.secrets.slice(0, 3).map((s) => s.value), ['${var.provision_domain}', '${var.provision_client_id}', '${var.provision_client_secret}']);
      const pm = /^\$\{file\("\$\{path\.module\}\/([^"]+)"\)\}$/.exec(a.secrets[3].value);
      assert.ok(pm, a.secrets[3].value);
      assert.equal(fs.readFileSync(path.join(out, pm[1]), 'utf8'), POLICY_TEXT);
      assert.equal(a.secrets[4].value, '5000');
      for (const s of a.secrets) for (const v of String(s.value).matchAll(/var\.([A-Za-z_][A-Za-z0-9_]*)/g)) referenced.add(v[1]);
    }
    const declared = vars.variable;
    for (const v of referenced) assert.ok(declared[v], `variable ${v} is declared in variables.tf`);
    assert.equal(declared.provision_client_secret[0].sensitive, true);
    assert.equal(declared.provision_client_secret[0].type, '${string}');

    const bindings = main.resource.auth0_trigger_actions;
    assert.deepEqual(bindings.post_login[0], {
      trigger: 'post-login',
      actions: [{ id: '${auth0_action.provision_access.id}', display_name: '${auth0_action.provision_access.name}' }],
    });
    assert.equal(bindings.post_user_registration[0].trigger, 'post-user-registration');
    assert.equal(bindings.post_user_registration[0].actions[0].id, '${auth0_action.provision_access_post_user_registration.id}');

    const mainText = fs.readFileSync(path.join(out, 'main.tf'), 'utf8');
    assert.match(mainText, /# NOTE: auth0_trigger_actions owns EVERY binding of its trigger \(post-login\)/);
    assert.match(fs.readFileSync(path.join(out, 'README.md'), 'utf8'), /owns EVERY binding/);
    assertNoCredentials(out, [r.stdout, r.stderr]);
  });

  test('the HCL parser rejects broken HCL (so the parse check can fail)', () => {
    const [obj, err] = hcl.parseToObject('resource "auth0_action" "x" {\n  name = "a"\n');
    assert.ok(!obj && err, 'an unclosed block is an error');
    const [obj2, err2] = hcl.parseToObject('resource "a" "b" { code = file("x" }\n');
    assert.ok(!obj2 && err2);
  });

  test('names become HCL identifiers; values are escaped for HCL templates', () => {
    const out = path.join(TMP, 'terraform-name');
    const r = runExport(['--format', 'terraform', '--name', '1st.provision', out], { TIMEOUT_MS: undefined });
    assert.equal(r.code, 0, r.stderr);
    const main = hclParse(fs.readFileSync(path.join(out, 'main.tf'), 'utf8'), 'main.tf');
    const a = main.resource.auth0_action._1st_provision[0];
    assert.equal(a.name, '1st.provision');
    assert.deepEqual(a.secrets.map((s) => s.name), ['AUTH0_DOMAIN', 'AUTH0_CLIENT_ID', 'AUTH0_CLIENT_SECRET', 'POLICY']);
  });

  test('usage and configuration errors', () => {
    assert.equal(runExport(['--format', 'pulumi', path.join(TMP, 'x')]).code, 2);
    assert.equal(runExport(['--format', 'terraform']).code, 2);
    const long = runExport(['--format', 'terraform', path.join(TMP, 'y')], { POLICY: JSON.stringify({ rules: [{ name: 'z'.repeat(5000) }] }) });
    assert.equal(long.code, 1);
    assert.match(long.stderr, /at most 4096[\s\S]*npm run build -- --policy FILE/);
    assert.ok(!fs.existsSync(path.join(TMP, 'y')), 'nothing written');
  });
});
