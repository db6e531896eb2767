'use strict';
// `policy test` (pkg-scripts/policy.js test): the example test files pass through the built
// Action (and their offline plans through the core), and a wrong expectation fails the run
// with a readable diff.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { ROOT, requireBuilt } = require('./helpers.js');

const EXAMPLES = path.join(ROOT, 'pkg-scripts/policies');
const CLI = path.join(ROOT, 'pkg-scripts/policy.js');

function policyTest(...files) {
  requireBuilt();
  const r = spawnSync(process.execPath, [CLI, 'test', ...files], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tmpTest(doc, name = 'x.test.json') {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'policy-test-')), name);
  fs.writeFileSync(file, JSON.stringify(doc));
  return file;
}

test('every example policy has a test file, and they all pass', () => {
  const policies = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json') && !f.endsWith('.test.json'));
  const tests = policies.map((f) => path.join(EXAMPLES, f.replace(/\.json$/, '.test.json')));
  for (const t of tests) assert.ok(fs.existsSync(t), `${path.basename(t)} is missing`);
  const r = policyTest(...tests);
  assert.equal(r.code, 0, r.out + r.err);
  const cases = (r.out.match(/^ok \d+ - /gm) || []).length;
  assert.ok(cases >= 3 * policies.length, `${cases} cases`);
  assert.match(r.out, new RegExp(`^1\\.\\.${cases}\\n${cases} passed, 0 failed\\n$`, 'm'));
  assert.doesNotMatch(r.out, /^not ok/m);
  // Reconcile-able rules state their offline plan too: a grant, a retraction, "not evaluable".
  const written = tests.flatMap((t) => JSON.parse(fs.readFileSync(t, 'utf8')).cases.map((c) => ({ ...c, file: path.basename(t) })));
  const offline = written.filter((c) => c.expect.offline !== undefined);
  assert.ok(offline.some((c) => c.expect.offline.roles_assigned?.length), 'an offline grant');
  assert.ok(offline.some((c) => c.expect.offline.roles_removed?.length && c.expect.offline.app_metadata?.provisioning_roles === null), 'an offline retraction');
  assert.ok(offline.some((c) => c.expect.offline === 'not evaluable'), 'a rule not evaluable offline');
  const retracting = policies.filter((f) => JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), 'utf8')).rules.some((rule) => rule.retract));
  assert.ok(retracting.length, 'an example policy uses retract');
  for (const f of retracting) assert.ok(offline.some((c) => c.file === f.replace(/\.json$/, '.test.json')), `${f}: offline cases`);
});

test('a wrong expectation fails with the expected and the actual value, and exit 1', () => {
  const file = tmpTest({
    policy: path.join(EXAMPLES, 'premium-for-google.json'),
    cases: [
      { name: 'right', user: 'google-oauth2|101234567890123456789', expect: { roles_assigned: ['Premium User'] } },
      { name: 'wrong role', user: 'google-oauth2|101234567890123456789', expect: { roles_assigned: ['Admin'], deny: false } },
      { name: 'wrong claim', user: 'google-oauth2|100000000000000000042', expect: { claims: { 'https://example.com/roles': [] } } },
    ],
  });
  const r = policyTest(file);
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /^ok 1 - right$/m);
  assert.match(r.out, /^not ok 2 - wrong role\n {2}---\n.*\n {2}diff:\n {4}roles_assigned:\n {6}- expected: \["Admin"\]\n {6}\+ actual: {3}\["Premium User"\]\n {2}\.\.\.$/m);
  assert.doesNotMatch(r.out, /deny:/, 'only what differs is shown');
  assert.match(r.out, /id token claim https:\/\/example\.com\/roles:\n {6}- expected: \[\]\n {6}\+ actual: {3}\["Premium User"\]/);
  assert.match(r.out, /\n1 passed, 2 failed\n$/);
});

test('a wrong offline expectation fails with the core\'s plan as the actual value, and exit 1', () => {
  const google = 'google-oauth2|101234567890123456789';
  const file = tmpTest({
    policy: path.join(EXAMPLES, 'premium-for-google.json'),
    cases: [
      { name: 'right', user: google, expect: { offline: { roles_assigned: ['Premium User'], not_evaluable: [] } } },
      { name: 'wrong role', user: google, expect: { offline: { roles_assigned: ['Admin'], app_metadata: {} } } },
      { name: 'not evaluable, says the case', user: google, expect: { roles_assigned: ['Premium User'], offline: 'not evaluable' } },
    ],
  });
  const r = policyTest(file);
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /^ok 1 - right$/m);
  assert.match(r.out, /^not ok 2 - wrong role\n {2}---\n.*\n {2}diff:\n {4}offline roles_assigned:\n {6}- expected: \["Admin"\]\n {6}\+ actual: {3}\["Premium User"\]\n {2}\.\.\.$/m);
  // The login part of case 3 holds; only the offline plan differs, rule by rule.
  assert.match(r.out, /^not ok 3 - not evaluable, says the case\n {2}---\n.*\n {2}diff:\n {4}offline roles_assigned:\n {6}- expected: \[\]\n {6}\+ actual: {3}\["Premium User"\]\n {4}offline not_evaluable:\n {6}- expected: \["premium-for-google"\]\n {6}\+ actual: {3}\[\]\n {2}\.\.\.$/m);
  assert.match(r.out, /\n1 passed, 2 failed\n$/);
});

test('a wrong retraction expectation names the roles and the record reconcile would write', () => {
  const left = { user_id: 'auth0|left0002', connection: 'Username-Password-Authentication', email: 'ken@elsewhere.org', email_verified: true, roles: ['Employee'], app_metadata: { provisioning_roles: ['Employee'] } };
  const r = policyTest(tmpTest({
    policy: path.join(EXAMPLES, 'employee-role-with-retraction.json'),
    cases: [{ name: 'kept, says the case', user: left, expect: { offline: { roles_removed: [], app_metadata: {} } } }],
  }));
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /offline roles_removed:\n {6}- expected: \[\]\n {6}\+ actual: {3}\["Employee"\]/);
  assert.match(r.out, /offline app_metadata\.provisioning_roles:\n {6}- expected: \(not set\)\n {6}\+ actual: {3}null/);
  assert.match(r.out, /\n0 passed, 1 failed\n$/);
});

test('offline: the core\'s refusal is a difference, an event.user is refused, a typo is a schema error', () => {
  const policy = tmpTest({ rules: [{ name: 'typo', when: { provider: 'google-oauth2' }, assign_roles: ['Premium Usr'] }] }, 'p.json');
  const refused = policyTest(tmpTest({ policy, cases: [{ name: 'refused', user: 'google-oauth2|101234567890123456789', expect: { offline: { roles_assigned: [] } } }] }));
  assert.equal(refused.code, 1, refused.out);
  assert.match(refused.out, /offline error:\n {6}- expected: null\n {6}\+ actual: {3}"role \\"Premium Usr\\" is not in the tenant's roles table"/);
  const named = policyTest(tmpTest({ policy, cases: [{ name: 'named', user: 'google-oauth2|101234567890123456789', expect: { offline: { error: 'Premium Usr' } } }] }));
  assert.equal(named.code, 0, named.out);
  const google = path.join(EXAMPLES, 'premium-for-google.json');
  const patched = policyTest(tmpTest({ policy: google, cases: [{ name: 'patched', event: { user: { email_verified: false } }, expect: { offline: { roles_assigned: [] } } }] }));
  assert.equal(patched.code, 1, patched.out);
  assert.match(patched.out, /not ok 1 - patched[\s\S]*event\.user cannot change it: give the user as an object instead/);
  const typo = policyTest(tmpTest({ policy: google, cases: [{ name: 'typo', expect: { offline: { roles_asigned: [] } } }] }));
  assert.equal(typo.code, 1, typo.out);
  assert.match(typo.out, /\/cases\/0\/expect\/offline: must NOT have additional properties \(roles_asigned\)/);
});

test('an unknown expectation or user is a failure naming it, not a pass', () => {
  const policy = path.join(EXAMPLES, 'premium-for-google.json');
  const typo = policyTest(tmpTest({ policy, cases: [{ name: 'typo', expect: { roles_asigned: [] } }] }));
  assert.equal(typo.code, 1);
  assert.match(typo.out, /must NOT have additional properties \(roles_asigned\)/);
  const nobody = policyTest(tmpTest({ policy, cases: [{ name: 'nobody', user: 'auth0|nobody', expect: { deny: false } }] }));
  assert.equal(nobody.code, 1);
  assert.match(nobody.out, /not ok 1 - nobody[\s\S]*auth0\|nobody is not in pkg-scripts\/emulator\/fixture\.json/);
});

test('a provisioning error fails a case unless it expects the error', () => {
  const policy = tmpTest({ rules: [{ name: 'typo', when: { provider: 'google-oauth2' }, assign_roles: ['Premium Usr'] }] }, 'p.json');
  const r = policyTest(tmpTest({ policy, cases: [{ name: 'silent', expect: { deny: false } }] }));
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /error:\n {6}- expected: null\n {6}\+ actual: {3}".*Premium Usr/);
  const expected = policyTest(tmpTest({ policy, cases: [{ name: 'expected', expect: { error: 'Premium Usr', roles_assigned: [] } }] }));
  assert.equal(expected.code, 0, expected.out);
});

test('--watch runs again when a test file changes', async () => {
  requireBuilt();
  const google = { policy: path.join(EXAMPLES, 'premium-for-google.json'), cases: [{ name: 'grant', user: 'google-oauth2|101234567890123456789', expect: { roles_assigned: ['Premium User'] } }] };
  const file = tmpTest(google);
  const child = spawn(process.execPath, [CLI, 'test', '--watch', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  const seen = (re) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${re} in:\n${out}`)), 30000);
    const check = () => {
      if (!re.test(out)) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve();
    };
    const onData = (d) => {
      out += d;
      check();
    };
    child.stdout.on('data', onData);
    check();
  });
  try {
    await seen(/1 passed, 0 failed\n# watching 3 file\(s\)/);
    google.cases[0].expect.roles_assigned = ['Admin'];
    fs.writeFileSync(file, JSON.stringify(google));
    await seen(/0 passed, 1 failed\n# watching 3 file\(s\)/);
    assert.match(out, /- expected: \["Admin"\]\n {6}\+ actual: {3}\["Premium User"\]/);
  } finally {
    child.kill();
  }
});

test('`policy` passes other subcommands to the Rust binary unchanged', () => {
  const r = spawnSync(process.execPath, [CLI, 'check', path.join(EXAMPLES, 'trial-on-signup.json')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /trial-on-signup\.json: valid, 2 rule\(s\)/);
  const bad = spawnSync(process.execPath, [CLI, 'check', tmpTest({ rules: {} })], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /rules: expected a list/);
});
