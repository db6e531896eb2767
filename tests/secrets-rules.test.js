'use strict';
// One rule for the Action's secrets: `npm run deploy` and `npm run export` accept exactly what
// the Action accepts, because both ask `policy check-secrets` (the Action's Rust core built for
// the host). The TIMEOUT_MS vectors are shared with the cargo test in src/core/config.rs.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT } = require('./helpers.js');
const deploy = require('../pkg-scripts/deploy.js');
const exporter = require('../pkg-scripts/export.js');

const BIN = path.join(ROOT, 'target/release/policy');
const VECTORS = JSON.parse(fs.readFileSync(path.join(__dirname, 'vectors/timeout_ms.json'), 'utf8')).cases;
// Distinctive values: no output may contain them.
const CLIENT_SECRET = 'secrets-rules-provision-secret-5d1e';
const DEPLOYER_SECRET = 'secrets-rules-deployer-secret-77ab';

let TMP;
let ACTION;
let EMPTY_ENV;
const outputs = [];

before(() => {
  assert.ok(fs.existsSync(BIN), 'build it with: cargo build --release --features cli --bin policy');
  TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-rules-'));
  // deploy/export only check that the code exports the handlers: a stand-in keeps this fast.
  ACTION = path.join(TMP, 'action.js');
  fs.writeFileSync(ACTION, 'exports.onExecutePostLogin = async () => {};\nexports.onExecutePostUserRegistration = async () => {};\n');
  EMPTY_ENV = path.join(TMP, 'empty.env');
  fs.writeFileSync(EMPTY_ENV, '');
});
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

function sink() {
  let text = '';
  return { write: (s) => { text += s; return true; }, get text() { return text; } };
}

const baseEnv = (vars) => ({
  AUTH0_DOMAIN: 'deployer-tenant.eu.auth0.com', AUTH0_CLIENT_ID: 'deployer-id', AUTH0_CLIENT_SECRET: DEPLOYER_SECRET,
  PROVISION_CLIENT_ID: 'provision-id', PROVISION_CLIENT_SECRET: CLIENT_SECRET, DEPLOY_POLICY_CHECKER: BIN,
  ...Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== null && v !== undefined)),
});

/** `npm run deploy -- --dry-run` in-process: the same checks as a real run, no request. */
async function dryRun(vars) {
  const stdout = sink();
  const stderr = sink();
  const code = await deploy.main(['--dry-run', '--no-build', '--env-file', EMPTY_ENV, '--action', ACTION], { stdout, stderr, env: baseEnv(vars) });
  outputs.push(stdout.text, stderr.text);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** `npm run export -- --format deploy-cli` in-process; returns the TIMEOUT_MS it wrote too. */
function exportCli(vars) {
  const out = fs.mkdtempSync(path.join(TMP, 'out-'));
  const stdout = sink();
  const stderr = sink();
  const code = exporter.main(['--format', 'deploy-cli', '--no-build', '--env-file', EMPTY_ENV, '--action', ACTION, '--force', out], { stdout, stderr, env: baseEnv(vars) });
  outputs.push(stdout.text, stderr.text);
  let written;
  if (code === 0) {
    const a = JSON.parse(fs.readFileSync(path.join(out, 'actions/provision-access.json'), 'utf8'));
    written = (a.secrets.find((s) => s.name === 'TIMEOUT_MS') || {}).value;
  }
  return { code, stdout: stdout.text, stderr: stderr.text, written };
}

function checkSecrets(secrets, ...flags) {
  const r = spawnSync(BIN, ['check-secrets', ...flags], { input: JSON.stringify(secrets), encoding: 'utf8' });
  outputs.push(r.stdout, r.stderr);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: flags.includes('--json') ? JSON.parse(r.stdout) : null };
}

const show = (v) => JSON.stringify(v);

test('TIMEOUT_MS vectors: `policy check-secrets`, deploy and export accept exactly what the Action accepts', async () => {
  assert.ok(VECTORS.some((c) => c.input === '1' && c.error) && VECTORS.some((c) => c.input === '0' && c.error), 'the vectors hold the values the tools used to let through');
  const runs = [];
  for (const c of VECTORS) {
    const given = c.input === null ? {} : { TIMEOUT_MS: c.input };
    // An empty variable is no variable to deploy and export: the Action then uses its default.
    const unset = c.input === null || c.input.trim() === '';
    runs.push({ c, unset, bin: checkSecrets(given, '--partial', '--json'), d: await dryRun(given), e: exportCli(given) });
  }
  // First the verdicts, all at once, so a disagreement names every value it concerns.
  const verdict = (ok) => (ok ? 'accepts' : 'refuses');
  const disagreements = runs.flatMap(({ c, unset, bin, d, e }) => {
    const action = verdict(!c.error);
    // deploy and export never send an empty TIMEOUT_MS, so for them "" is the default.
    const expected = verdict(!c.error || unset);
    return [['check-secrets', verdict(bin.json.ok), action], ['deploy', verdict(d.code === 0), expected], ['export', verdict(e.code === 0), expected]]
      .filter(([, got, want]) => got !== want)
      .map(([tool, got]) => `${tool} ${got} TIMEOUT_MS=${show(c.input)}; the Action ${action} it`);
  });
  assert.deepEqual(disagreements, []);
  for (const { c, unset, bin, d, e } of runs) {
    if (!c.error) assert.equal(bin.json.timeout_ms, c.ms, `check-secrets ${show(c.input)}`);
    if (c.error && !unset) {
      assert.match(d.stderr, /\n {2}TIMEOUT_MS: must be a whole number of milliseconds, at least 100 \(above 15000 is capped\)/);
      assert.match(e.stderr, /\n {2}TIMEOUT_MS: must be a whole number of milliseconds/);
      continue;
    }
    assert.match(d.stdout, new RegExp(`checked by \`policy check-secrets\` \\(policy\\): deadline ${unset ? 8000 : c.ms} ms`), show(c.input));
    assert.equal(/secrets: [^\n]*TIMEOUT_MS/.test(d.stdout), !unset, `deploy sends TIMEOUT_MS only when given (${show(c.input)})`);
    assert.equal(e.written, unset ? undefined : c.input.trim(), `export writes TIMEOUT_MS as given (${show(c.input)})`);
    // Above 15000 is capped, not an error, and every tool says so.
    const capped = !unset && Number(c.input.trim()) > 15000;
    for (const [tool, text] of [['deploy', d.stderr], ['export', e.stderr], ['check-secrets', bin.json.notes.map((n) => `${n.secret}: ${n.message}`).join('\n')]]) {
      assert.equal(/TIMEOUT_MS: is above 15000 ms, so the Action caps it at 15000 ms/.test(text), capped, `${tool} ${show(c.input)}: ${text}`);
    }
  }
});

test('AUTH0_DOMAIN: the deployer\'s tenant and the Action\'s (PROVISION_DOMAIN) follow the Action\'s origin rule', async () => {
  const cases = [
    ['Example.EU.auth0.com', 'https://example.eu.auth0.com'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['http://[::1]:3000', 'http://[::1]:3000'],
    ['login.example.com:8443', 'https://login.example.com:8443'],
    // Refused by the Action; the deploy tool's old parser let the last one through.
    ['', null], ['ftp://x.com', null], ['http://x.com', null], ['x.com/path', null], ['user@x.com', null],
    ['x.com:99999', null], ['a..b', null], ['http://127.0.0.999', null],
  ];
  for (const [domain, origin] of cases) {
    const bin = checkSecrets({ AUTH0_DOMAIN: domain }, '--partial', '--json');
    assert.equal(bin.json.origin, origin, `check-secrets ${show(domain)}`);
    if (domain === '') continue; // an empty variable is "not set", reported by deploy itself
    const asAction = await dryRun({ PROVISION_DOMAIN: domain });
    assert.equal(asAction.code, origin ? 0 : 1, `PROVISION_DOMAIN=${show(domain)}: ${asAction.stderr}`);
    if (!origin) assert.match(asAction.stderr, /\n {2}PROVISION_DOMAIN \(the Action's AUTH0_DOMAIN\): /);
    const asDeployer = await dryRun({ AUTH0_DOMAIN: domain });
    assert.equal(asDeployer.code, origin ? 0 : 1, `AUTH0_DOMAIN=${show(domain)}: ${asDeployer.stderr}`);
    if (origin) assert.match(asDeployer.stdout, new RegExp(`tenant: ${origin.replace(/[.[\]]/g, '\\$&')} \\(deployer`));
    else assert.match(asDeployer.stderr, /the deployer's tenant: `policy check-secrets` .*\n {2}AUTH0_DOMAIN \(the tenant to deploy to\): /);
  }
});

test('`policy check-secrets` names the secret, never its value; an unresolved ##KEYWORD## says which mapping to add', () => {
  const secrets = {
    AUTH0_DOMAIN: '##PROVISION_DOMAIN##',
    AUTH0_CLIENT_ID: 'provision-id',
    AUTH0_CLIENT_SECRET: `${CLIENT_SECRET} `.repeat(300), // over 4096 characters
    TIMEOUT_MS: CLIENT_SECRET,
    POLICY: '{"rules":[{"name":"x","when":{"providr":"google-oauth2"},"assign_roles":["R"]}]}',
  };
  const human = checkSecrets(secrets);
  assert.equal(human.code, 1);
  for (const want of [
    'error: AUTH0_DOMAIN: is an unresolved Deploy CLI keyword: add PROVISION_DOMAIN to AUTH0_KEYWORD_REPLACE_MAPPINGS',
    'error: AUTH0_CLIENT_SECRET: is 10800 characters; an Action secret holds at most 4096',
    'error: TIMEOUT_MS: must be a whole number of milliseconds, at least 100 (above 15000 is capped)',
    'stdin: 4 error(s)',
  ]) assert.ok(human.stderr.includes(want), `missing ${want} in\n${human.stderr}`);
  assert.match(human.stderr, /error: POLICY: rules\[0\]\.when\.providr: unknown key[^\n]*\n {2}hint: check the spelling/);
  const json = checkSecrets(secrets, '--json');
  assert.equal(json.code, 1);
  assert.deepEqual(json.json.errors.map((e) => e.secret), ['AUTH0_DOMAIN', 'AUTH0_CLIENT_SECRET', 'TIMEOUT_MS', 'POLICY']);
  for (const r of [human, json]) {
    assert.ok(!(r.stdout + r.stderr).includes(CLIENT_SECRET), 'a value was printed');
  }
  // The Management API's / Deploy CLI's [{name, value}] form, with its placeholders unresolved.
  const list = checkSecrets([{ name: 'AUTH0_DOMAIN', value: 'tenant.eu.auth0.com' }, { name: 'AUTH0_CLIENT_ID', value: '##PROVISION_CLIENT_ID##' },
    { name: 'AUTH0_CLIENT_SECRET', value: '@@PROVISION_CLIENT_SECRET@@' }]);
  assert.equal(list.code, 1);
  assert.match(list.stderr, /AUTH0_CLIENT_ID: is an unresolved Deploy CLI keyword: add PROVISION_CLIENT_ID to AUTH0_KEYWORD_REPLACE_MAPPINGS/);
  assert.match(list.stderr, /AUTH0_CLIENT_SECRET: is an unresolved Deploy CLI keyword: add PROVISION_CLIENT_SECRET to AUTH0_KEYWORD_REPLACE_MAPPINGS/);
  const ok = checkSecrets({ AUTH0_DOMAIN: 'tenant.eu.auth0.com', AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: CLIENT_SECRET, TIMEOUT_MS: '20000' });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /note: TIMEOUT_MS: is above 15000 ms, so the Action caps it at 15000 ms\nstdin: the Action accepts these secrets \(deadline 15000 ms\)/);
  assert.equal(checkSecrets({ TIMEOUT_MS: '500' }).code, 1, 'without --partial the credentials are required');
  assert.equal(spawnSync(BIN, ['check-secrets'], { input: '[1]', encoding: 'utf8' }).status, 2, 'not a set of secrets: a usage error');
});

test('no deploy, export or check-secrets output held a client secret', () => {
  assert.ok(outputs.length > 100);
  for (const out of outputs) {
    for (const s of [CLIENT_SECRET, DEPLOYER_SECRET]) assert.ok(!out.includes(s), `secret printed:\n${out}`);
  }
});
