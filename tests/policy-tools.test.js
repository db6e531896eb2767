'use strict';
// The policy tooling: `policy check` / `policy explain` (the Action's Rust core compiled for
// the host) and the JSON Schema for editors, checked on every example policy.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const Ajv2020 = require('ajv/dist/2020');
const { ROOT } = require('./helpers.js');

const BIN = path.join(ROOT, 'target/release/policy');
const EXAMPLES = path.join(ROOT, 'pkg-scripts/policies');
const examples = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json') && !f.endsWith('.test.json'));
const schema = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(fs.readFileSync(path.join(ROOT, 'pkg-scripts/policy.schema.json'), 'utf8')));

function policyCli(...args) {
  assert.ok(fs.existsSync(BIN), 'build it with: cargo build --release --features cli --bin policy');
  const r = spawnSync(BIN, args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tmp(name, content) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'policy-')), name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

test('every example policy passes `policy check` and the JSON Schema', () => {
  assert.ok(examples.length >= 5);
  for (const f of examples) {
    const r = policyCli('check', path.join(EXAMPLES, f));
    assert.equal(r.code, 0, `${f}: ${r.err}`);
    assert.match(r.out, /valid, \d+ rule\(s\); \d+ characters as a POLICY secret \(limit 4096\)/);
    const doc = JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), 'utf8'));
    assert.ok(schema(doc), `${f}: ${JSON.stringify(schema.errors)}`);
  }
});

test('`policy check` prints every error with its JSON path and a hint, and fails', () => {
  const bad = { on_error: 'sometimes', rules: [{ name: 'a', when: { provder: 'auth0' }, assign_roles: ['X'] }, { name: 'a', deny: 'no' }] };
  const r = policyCli('check', tmp('bad.json', bad));
  assert.equal(r.code, 1);
  for (const want of [
    'error: on_error: expected "allow" or "deny"',
    'error: rules[0].when.provder: unknown key',
    'error: rules[1].name: duplicate rule name',
    'error: rules[1].deny: deny is impossible in post-user-registration',
    'hint: check the spelling',
    '4 error(s)',
  ]) assert.ok(r.err.includes(want), `missing ${want} in\n${r.err}`);
  assert.equal(schema(bad), false, 'the schema rejects it too');
  const notJson = policyCli('check', tmp('x.json', '{"rules": ['));
  assert.equal(notJson.code, 2);
  assert.match(notJson.err, /not valid JSON/);
});

test('`policy check` refuses a policy over the 4096-character secret limit and suggests baking it', () => {
  const rules = Array.from({ length: 60 }, (_, i) => ({ name: `rule-${i}`, when: { email_domain: `customer-${i}.example.com` }, assign_roles: [`Customer ${i}`] }));
  const r = policyCli('check', tmp('big.json', { rules }));
  assert.equal(r.code, 1);
  assert.match(r.err, /too long for the POLICY secret; bake it into the Action instead: npm run build -- --policy /);
});

test('`policy explain` shows matches, misses and the exact plan without sending anything', () => {
  const event = { user: { user_id: 'auth0|eve', email: 'eve@example.com', email_verified: true }, connection: { name: 'Username-Password-Authentication', strategy: 'auth0' } };
  const r = policyCli('explain', path.join(EXAMPLES, 'trial-on-signup.json'), tmp('ev.json', event), '--trigger', 'post-user-registration');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /✔ trial-for-new-accounts: conditions hold/);
  assert.match(r.out, /✘ invite-link: app_metadata does not match/);
  assert.match(r.out, /POST \/api\/v2\/users\/\{id\}\/roles {2}\{roles: \[Trial User\]\}/);
  assert.match(r.out, /PATCH \/api\/v2\/users\/\{id\} AppMetadata\("plan", "trial"\)/);
  const login = policyCli('explain', path.join(EXAMPLES, 'trial-on-signup.json'), tmp('ev.json', event));
  assert.match(login.out, /✘ trial-for-new-accounts: trigger does not match/);
  assert.match(login.out, /nothing to do/);
  const badEvent = policyCli('explain', path.join(EXAMPLES, 'trial-on-signup.json'), tmp('ev.json', { user: {} }));
  assert.equal(badEvent.code, 2);
  assert.match(badEvent.err, /event\.user\.user_id expected a string/);
});

test('the Action logs the hash `policy check` prints, and its line stays within 256 characters', async () => {
  const { tenant, USERS } = require('./helpers.js');
  const file = path.join(EXAMPLES, 'premium-for-google.json');
  const check = policyCli('check', file);
  assert.equal(check.code, 0, check.err);
  const hash = check.out.match(/policy=([0-9a-f]{8})/)[1];
  // The secret holds the compact form of the pretty-printed file: the same hash.
  const t = await tenant({ policy: JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8'))) });
  try {
    const r = await t.runner.login(USERS.ada);
    assert.match(r.logs[0], new RegExp(`^provision ok: policy=${hash} `));
    // Long rule names: the line is clipped to Auth0's 256 characters, the policy hash kept.
    const long = { rules: Array.from({ length: 6 }, (_, i) => ({ name: `rule-${i}-${'x'.repeat(60)}`, when: { provider: 'google-oauth2' }, assign_roles: ['Premium User'] })) };
    const l = await t.runner.login(USERS.grace, { secrets: { POLICY: JSON.stringify(long) } });
    assert.ok(l.logs[0].length <= 256, `${l.logs[0].length} characters`);
    assert.match(l.logs[0], /^provision ok: policy=[0-9a-f]{8} user=/);
  } finally {
    await t.stop();
  }
});

test('explain into a reader that stops early (| head) ends quietly with 141, not a panic report', async () => {
  const { spawn } = require('node:child_process');
  const rules = Array.from({ length: 3000 }, (_, i) => ({ name: `rule-number-${i}`, when: { provider: 'google-oauth2' }, assign_roles: ['Premium User'] }));
  const policy = tmp('big.json', JSON.stringify({ rules }));
  const event = tmp('event.json', JSON.stringify({ user: { user_id: 'google-oauth2|1' }, connection: { name: 'google-oauth2', strategy: 'google-oauth2' } }));
  const child = spawn(BIN, ['explain', policy, event], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 141, err);
  assert.equal(err, '');
});
