'use strict';
// `policy test`: cases from NAME.test.json run through the built Action against a fresh
// emulator each, so a case asserts what a tenant would see (the requests it received, what
// the api object was told), not what the planner intended; `expect.offline` also asks the core
// what reconcile would plan for the user (policy-test-offline.js). Format: README,
// policy-test.schema.json.
const fs = require('node:fs');
const path = require('node:path');
const { isDeepStrictEqual } = require('node:util');
const { TenantEmulator } = require('../emulator/server.js');
const { ActionsRunner } = require('../emulator/runner.js');
const { ConfigError } = require('./errors.js');
const { readPolicyFile, compactPolicy } = require('./policy-input.js');
const offline = require('./policy-test-offline.js');

const BASE_FIXTURE = require('../emulator/fixture.json');
// The fixture's application as one granted the organization scopes too: a policy giving
// organization access needs them (README › Organizations), and a case tests the policy,
// not the grant.
const ORG_SCOPES = ['read:organizations', 'create:organization_members', 'create:organization_member_roles',
  'delete:organization_members', 'delete:organization_member_roles'];
const FIXTURE = {
  ...BASE_FIXTURE,
  clients: BASE_FIXTURE.clients.map((c, i) => (i === 0 ? { ...c, scopes: [...new Set([...(c.scopes || []), ...ORG_SCOPES])] } : c)),
};
const SCHEMA = require('../policy-test.schema.json');

let validator = null;
function validate(doc) {
  if (!validator) {
    // ajv is a devDependency: only a checkout runs `policy test`, never the deployed Action.
    const Ajv2020 = require('ajv/dist/2020');
    validator = new Ajv2020({ strict: false, allErrors: true }).compile(SCHEMA);
  }
  if (validator(doc)) return [];
  return validator.errors.map((e) => `${e.instancePath || '/'}: ${e.message}${e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`);
}

/** A test file: {file, policyFile, policy (compact JSON), cases}; a ConfigError when unusable. */
function loadTestFile(file) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file}: ${e.code ? `cannot read (${e.code})` : `not valid JSON (${e.message})`}`);
  }
  const errors = validate(doc);
  if (errors.length) throw new ConfigError(`${file}: not a policy test file (policy-test.schema.json):\n  ${errors.join('\n  ')}`);
  const policyFile = path.resolve(path.dirname(file), doc.policy || path.basename(file).replace(/\.test\.json$/, '.json'));
  const policy = compactPolicy(readPolicyFile(policyFile, `${file}: policy`), policyFile);
  // Names only, for the "not evaluable" shorthand; the core judges the policy itself.
  const { rules } = JSON.parse(policy) || {};
  const ruleNames = Array.isArray(rules) ? rules.map((r) => r && r.name).filter((n) => typeof n === 'string') : [];
  return { file, policyFile, policy, ruleNames, cases: doc.cases };
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The case's partial event over the runner's: objects merge, anything else replaces. */
function mergeInto(target, patch) {
  for (const [k, v] of Object.entries(patch)) {
    if (isObject(v) && isObject(target[k])) mergeInto(target[k], v);
    else target[k] = JSON.parse(JSON.stringify(v));
  }
}

function addCaseUser(emu, user) {
  const roleId = (r) => (emu.roles.find((x) => x.name === r) || { id: r }).id;
  emu.addUser({ ...user, roles: (user.roles || []).map(roleId) });
  return user.user_id;
}

/** What the tenant and the api object saw, in the vocabulary of `expect`. */
function observe(emu, r) {
  const roleName = (id) => (emu.roles.find((x) => x.id === id) || { name: id }).name;
  const bodies = (route) => r.requests.filter((q) => q.route === route && q.status >= 200 && q.status < 300).map((q) => q.body || {});
  const app = { ...(r.appMetadata || {}) };
  const user = { ...(r.userMetadata || {}) };
  for (const b of bodies('PATCH /api/v2/users/{id}')) {
    Object.assign(app, b.app_metadata || {});
    Object.assign(user, b.user_metadata || {});
  }
  const orgName = (id) => (emu.organizations.find((o) => o.id === id) || { name: id }).name;
  const orgOf = (q) => orgName(decodeURIComponent(q.path.split('?')[0].split('/')[4]));
  const ok = (route) => r.requests.filter((q) => q.route === route && q.status >= 200 && q.status < 300);
  const mfa = r.mfa ? { provider: r.mfa.provider, ...(r.mfa.opts || {}) } : false;
  return {
    roles_assigned: bodies('POST /api/v2/users/{id}/roles').flatMap((b) => b.roles).map(roleName),
    roles_removed: bodies('DELETE /api/v2/users/{id}/roles').flatMap((b) => b.roles).map(roleName),
    permissions_assigned: bodies('POST /api/v2/users/{id}/permissions').flatMap((b) => b.permissions),
    // Organization names (the emulator's), and "<org>/<role>" as provisioning_orgs records them.
    organizations_joined: ok('POST /api/v2/organizations/{id}/members').map(orgOf),
    organization_roles_assigned: ok('POST /api/v2/organizations/{id}/members/{user_id}/roles').flatMap((q) => ((q.body || {}).roles || []).map((id) => `${orgOf(q)}/${roleName(id)}`)),
    // Retraction (a retract rule that no longer matches).
    organizations_left: ok('DELETE /api/v2/organizations/{id}/members').map(orgOf),
    organization_roles_removed: ok('DELETE /api/v2/organizations/{id}/members/{user_id}/roles').flatMap((q) => ((q.body || {}).roles || []).map((id) => `${orgOf(q)}/${roleName(id)}`)),
    app_metadata: app,
    user_metadata: user,
    claims: { id: r.idClaims || {}, access: r.accessClaims || {} },
    mfa,
    deny: r.denied ? r.denyReason : false,
    // The token request counts: "no request" is the promise that a login costs the tenant nothing.
    requests: r.requests.map((q) => `${q.route.split(' ')[0]} ${q.path}`),
    error: r.threw ? String(r.threw.message || r.threw) : (r.outcome && r.outcome.error) || null,
  };
}

const show = (v) => (v === undefined ? '(not set)' : JSON.stringify(v));
const sortJson = (list) => list.map((x) => JSON.stringify(x)).sort();

/** Readable differences between `expect` and what was observed: one entry per mismatch. */
function compare(expect, actual) {
  const diffs = [];
  const differ = (key, want, got) => diffs.push({ key, expected: show(want), actual: show(got) });
  for (const key of ['roles_assigned', 'roles_removed', 'permissions_assigned', 'organizations_joined', 'organization_roles_assigned', 'organizations_left', 'organization_roles_removed']) {
    if (key in expect && !isDeepStrictEqual(sortJson(expect[key]), sortJson(actual[key]))) differ(key, expect[key], actual[key]);
  }
  for (const key of ['app_metadata', 'user_metadata']) {
    if (!(key in expect)) continue;
    for (const k of new Set([...Object.keys(expect[key]), ...Object.keys(actual[key])])) {
      if (!isDeepStrictEqual(expect[key][k], actual[key][k])) differ(`${key}.${k}`, expect[key][k], actual[key][k]);
    }
  }
  for (const [claim, want] of Object.entries(expect.claims || {})) {
    for (const token of ['id', 'access']) {
      const got = actual.claims[token][claim];
      if (!isDeepStrictEqual(want === null ? undefined : want, got)) differ(`${token} token claim ${claim}`, want === null ? undefined : want, got);
    }
  }
  for (const key of ['mfa', 'deny']) {
    if (key in expect && !isDeepStrictEqual(expect[key], actual[key])) differ(key, expect[key], actual[key]);
  }
  if (expect.no_management_api_request && actual.requests.length) differ('requests to the tenant', [], actual.requests);
  if (expect.error === undefined ? actual.error : !(actual.error || '').includes(expect.error)) {
    differ('error', expect.error === undefined ? null : `…${expect.error}…`, actual.error);
  }
  return diffs;
}

/**
 * The offline plan for the case's user as the tenant holds it before the login: the record
 * reconcile reads (GET /users) and the role ids it holds.
 */
function offlineDiffs(c, emu, userId, suite) {
  if (isObject(c.event) && 'user' in c.event) {
    // The offline plan reads the tenant's record, never the event: a patched event.user would
    // be checked against a user the core never saw.
    throw new ConfigError('expect.offline plans from the user record, so event.user cannot change it: give the user as an object instead');
  }
  const record = emu.users.get(userId);
  const plan = offline.planOffline({
    bin: suite.policyBin(),
    policyFile: suite.policyFile,
    roles: emu.roles.map(({ id, name }) => ({ id, name })),
    snapshot: { user: emu.publicUser(record), roles: record.roles },
  });
  const actual = offline.observeOffline(plan);
  return { diffs: offline.compareOffline(offline.expandExpectation(c.expect.offline, suite.ruleNames), actual), actual };
}

/** Runs one case; returns {diffs, actual: {login?, offline?}}. */
async function runCase(c, suite) {
  const emu = new TenantEmulator(FIXTURE);
  const userId = isObject(c.user) ? addCaseUser(emu, c.user) : c.user || FIXTURE.users[0].user_id;
  if (!emu.users.has(userId)) throw new ConfigError(`user ${userId} is not in pkg-scripts/emulator/fixture.json (give the user as an object to add it)`);
  const diffs = [];
  const actual = {};
  const { offline: wantOffline, ...wantLogin } = c.expect;
  if (wantOffline !== undefined) {
    const o = offlineDiffs(c, emu, userId, suite);
    diffs.push(...o.diffs);
    actual.offline = o.actual;
  }
  // A case that states only the offline plan is about reconcile: no login is run for it.
  if (wantOffline !== undefined && !Object.keys(wantLogin).length) return { diffs, actual };
  const origin = await emu.start();
  try {
    const m2m = FIXTURE.clients[0];
    const runner = new ActionsRunner({
      emulator: emu,
      actionPath: suite.actionPath,
      secrets: { AUTH0_DOMAIN: origin, AUTH0_CLIENT_ID: m2m.client_id, AUTH0_CLIENT_SECRET: m2m.client_secret, POLICY: suite.policy },
    });
    const edit = (event) => mergeInto(event, c.event || {});
    const r = c.trigger === 'post-user-registration' ? await runner.register(userId, { edit }) : await runner.login(userId, { edit });
    actual.login = observe(emu, r);
    diffs.unshift(...compare(wantLogin, actual.login));
    return { diffs, actual };
  } finally {
    await emu.stop();
  }
}

/**
 * Runs every case of every file, writing TAP to `out`; returns {passed, failed}. A file that
 * cannot be loaded counts as one failure and the rest still run.
 */
async function runTestFiles(files, { actionPath, policyBin, out = (s) => process.stdout.write(s), cwd = process.cwd() }) {
  // The core for expect.offline: found (or built) once, and only when a case asks for it.
  let bin = null;
  const findBin = () => (bin ||= policyBin());
  let n = 0;
  let failed = 0;
  out('TAP version 13\n');
  for (const file of files) {
    const rel = path.relative(cwd, path.resolve(file)) || file;
    let suite;
    try {
      suite = loadTestFile(file);
    } catch (e) {
      failed++;
      out(`not ok ${++n} - ${rel}\n  ---\n  message: ${JSON.stringify(e.message)}\n  ...\n`);
      continue;
    }
    out(`# ${rel} (policy ${path.relative(cwd, suite.policyFile)})\n`);
    for (const c of suite.cases) {
      let result;
      try {
        result = await runCase(c, { ...suite, actionPath, policyBin: findBin });
      } catch (e) {
        result = { diffs: [{ key: 'run', expected: 'the case to run', actual: e.message }] };
      }
      if (!result.diffs.length) {
        out(`ok ${++n} - ${c.name}\n`);
        continue;
      }
      failed++;
      out(`not ok ${++n} - ${c.name}\n  ---\n  file: ${rel}\n  diff:\n`);
      for (const d of result.diffs) out(`    ${d.key}:\n      - expected: ${d.expected}\n      + actual:   ${d.actual}\n`);
      out('  ...\n');
    }
  }
  out(`1..${n}\n${n - failed} passed, ${failed} failed\n`);
  return { passed: n - failed, failed };
}

module.exports = { loadTestFile, runCase, runTestFiles, compare, mergeInto };
