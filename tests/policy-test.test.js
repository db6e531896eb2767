'use strict';
// `policy test` (pkg-scripts/policy.js test): the example test files pass through the built
// Action, and a wrong expectation fails the run with a readable diff.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
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

test('`policy` passes other subcommands to the Rust binary unchanged', () => {
  const r = spawnSync(process.execPath, [CLI, 'check', path.join(EXAMPLES, 'trial-on-signup.json')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /trial-on-signup\.json: valid, 2 rule\(s\)/);
  const bad = spawnSync(process.execPath, [CLI, 'check', tmpTest({ rules: {} })], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /rules: expected a list/);
});
