'use strict';
// Hostile input and a hostile network against the built dist/action.js: secrets echoed back
// in other encodings, ids that are path operations, oversized replies, short-lived tokens.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { tenant, routes, USERS, FIXTURE } = require('./helpers.js');
const { matcher } = require('../pkg-scripts/scan-secrets.js');

const TOKEN = 'POST /oauth/token';
const ROLES = 'GET /api/v2/roles';
const ASSIGN = 'POST /api/v2/users/{id}/roles';
const tenants = [];

// Every wasm instance the Action creates, to read its memory size (the exports' names are
// minified, so the memory is found by type).
const instances = [];
WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
  construct(target, args) {
    const i = Reflect.construct(target, args);
    instances.push(i);
    return i;
  },
});
const wasmBytes = () => Object.values(instances[instances.length - 1].exports).find((v) => v instanceof WebAssembly.Memory).buffer.byteLength;

async function start(opts) {
  const t = await tenant(opts);
  tenants.push(t);
  return t;
}

after(async () => {
  for (const t of tenants) await t.stop();
});

const copy = (x) => JSON.parse(JSON.stringify(x));

/** Every text an execution let out: log lines, the returned error, the deny reason. */
function outputs(r) {
  return [...r.logs, r.outcome && r.outcome.error, r.denyReason].filter(Boolean);
}

function assertNoLeak(r, secrets) {
  const find = matcher(secrets);
  for (const text of outputs(r)) {
    const leak = find(text);
    // Never print the secret: only where the leak starts and the clean text before it.
    assert.ok(!leak, `a fragment of a secret (${leak && leak.form.length} chars at ${leak && leak.at}) in: ${text.slice(0, leak ? leak.at : 0)}…`);
  }
}

/** The fixture with 17 more roles, and a policy assigning all of them to Google sign-ups. */
function seventeenRoles() {
  const fixture = copy(FIXTURE);
  const names = [];
  for (let i = 1; i <= 17; i++) {
    const n = String(i).padStart(2, '0');
    names.push(`Tier ${n}`);
    fixture.roles.push({ id: `rol_tier00000000${n}`, name: `Tier ${n}`, description: '' });
  }
  return { fixture, policy: { rules: [{ name: 'tiers', when: { provider: 'google-oauth2' }, assign_roles: names }] } };
}

// ---- 3. redaction ------------------------------------------------------------------------

// Every character class that an encoding changes: '+', '/', '"', '\', '%', space, non-ASCII.
const SPECIAL = 'Sup3r+Secret/wïth "quote" \\ and %41 Zq7Kx9Wm2Rv5Tn8Y';

test('3. a token endpoint echoing the client secret in any encoding or as a fragment: redacted everywhere', async () => {
  const fixture = copy(FIXTURE);
  fixture.clients[0].client_secret = SPECIAL;
  const { emu, runner } = await start({ fixture, policy: { on_error: 'deny', rules: [{ name: 'g', when: { provider: 'google-oauth2' }, assign_roles: ['Premium User'] }] } });
  const json = JSON.stringify(SPECIAL).slice(1, -1);
  const echoes = {
    raw: SPECIAL,
    'percent-encoded': encodeURIComponent(SPECIAL),
    'form-encoded': new URLSearchParams({ s: SPECIAL }).toString().slice(2),
    'JSON-escaped': json,
    'a suffix': SPECIAL.slice(-12),
    'a middle fragment': SPECIAL.slice(4, 14),
    'an encoded middle fragment': encodeURIComponent(SPECIAL.slice(9, 30)),
  };
  for (const [what, echo] of Object.entries(echoes)) {
    emu.injectFault({ path: '/oauth/token', status: 401, body: { error: 'access_denied', error_description: `bad client_secret=${echo}` } });
    const r = await runner.login(USERS.ada);
    assert.deepEqual(routes(r), [TOKEN], what);
    assert.equal(r.denied, true, what);
    assert.match(r.logs[0], /POST \/oauth\/token failed: HTTP 401 access_denied \(bad client_secret=\[redacted\]\); rules=g$/, `${what}: ${r.logs[0]}`);
    assert.match(r.outcome.error, /\(bad client_secret=\[redacted\]\)$/, what);
    assertNoLeak(r, [SPECIAL]);
  }
});

test('3. the client secret stays redacted after many token fetches (it is never evicted)', async () => {
  const { fixture, policy } = seventeenRoles();
  const { emu, runner, client } = await start({ fixture, policy });
  // Each role look-up finds its token revoked: a 401, a new token, the look-up again.
  let lookups = 0;
  emu.onRequest = (e) => {
    if (e.route === ROLES && lookups++ % 2 === 0) emu.tokens.clear();
  };
  emu.injectFault({ path: '/api/v2/users/', status: 400, body: ({ body }) => ({ statusCode: 400, error: 'Bad Request', message: `rejected for client_secret ${client.client_secret} ${JSON.stringify(body).length}`, errorCode: 'invalid_body' }) });
  const r = await runner.login(USERS.ada);
  emu.onRequest = null;
  assert.ok(routes(r).filter((x) => x === TOKEN).length >= 17, `many token fetches: ${routes(r).join(', ')}`);
  assert.match(r.logs[0], /HTTP 400 invalid_body \(rejected for client_secret \[redacted\] \d+\)/, r.logs[0]);
  assertNoLeak(r, [client.client_secret, ...emu.tokens.keys()]);
});

test('3. an echoed bearer token is redacted even when tokens share a long prefix (JWTs do)', async () => {
  const { emu, runner } = await start({ emulator: { tokenPrefix: 'emu.eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.' } });
  await runner.login(USERS.grace); // token A, remembered
  const first = [...emu.tokens.keys()];
  emu.tokens.clear(); // revoked: the next call gets token B
  emu.onRequest = (e) => {
    if (e.route !== TOKEN) return;
    emu.onRequest = null;
    emu.injectFault({ path: '/api/v2/users/', status: 403, body: ({ headers }) => ({ statusCode: 403, error: 'Forbidden', message: `token ${headers.authorization} lacks a scope`, errorCode: 'insufficient_scope' }) });
  };
  const r = await runner.login(USERS.ada);
  assert.deepEqual(routes(r), [ASSIGN, TOKEN, ASSIGN]);
  const second = [...emu.tokens.keys()];
  assert.equal(second.length, 1);
  assert.match(r.logs[0], /HTTP 403 insufficient_scope \(token Bearer \[redacted\]/, r.logs[0]);
  assertNoLeak(r, [...first, ...second]);
});

// ---- 5. dot-segment user ids ---------------------------------------------------------------

test('5. a user id that is a path operation (".", "..") or empty: refused before any request', async () => {
  const fixture = copy(FIXTURE);
  const ids = ['.', '..', ''];
  for (const user_id of ids) fixture.users.push({ user_id, email: 'x@gmail.com', email_verified: true, name: 'Dots', connection: 'google-oauth2', logins_count: 0, roles: [] });
  const policy = { on_error: 'deny', rules: [{ name: 'g', when: { provider: 'google-oauth2' }, assign_roles: ['Premium User'], set_app_metadata: { plan: 'x' } }] };
  const { emu, runner } = await start({ fixture, policy });
  for (const id of ids) {
    const before = emu.count();
    const r = await runner.login(id);
    assert.equal(emu.count(), before, `no request at all for ${JSON.stringify(id)}: ${routes(r).join(', ')}`);
    assert.equal(r.denied, true, 'on_error applies');
    assert.match(r.logs[0], /malformed event: event\.user\.user_id /, r.logs[0]);
    assert.match(r.outcome.error, /event\.user\.user_id/);
    assert.deepEqual(r.appMetadata, {});
  }
  // Ids that merely contain dots or escapes are ordinary ids and reach their own user.
  for (const user_id of ['google-oauth2|...', '%2E%2E', '.a', '%2e']) {
    emu.addUser({ user_id, email: 'x@gmail.com', email_verified: true, name: 'Dotty', connection: 'google-oauth2', logins_count: 0, roles: [] });
    const r = await runner.login(user_id);
    assert.equal(r.outcome.error, null, `${user_id}: ${r.outcome.error}`);
    assert.deepEqual(emu.users.get(user_id).roles, ['rol_premium0000001'], user_id);
  }
});

// ---- 6. claims Auth0 would drop -------------------------------------------------------------

test('6. restricted or glued claim namespaces and a claim shadowing the roles claim fail with their JSON path', async () => {
  const { emu, runner } = await start({ policy: null });
  const cases = [
    ['https://AUTH0.COM./', {}, /invalid policy: claims_namespace: auth0\.com, webtask\.io and webtask\.run namespaces are restricted/],
    ['https://x@auth0.com:443/', {}, /invalid policy: claims_namespace: .*restricted/],
    ['https://sandbox.webtask.run./', {}, /invalid policy: claims_namespace: .*restricted/],
    ['https://example.com', {}, /invalid policy: claims_namespace: must end with "\/"/],
    ['https://example.com/', { 'https://example.com/roles': ['Admin'] }, /invalid policy: rules\[0\]\.claims\.https:\/\/example\.com\/roles: "roles" is the Action's own roles claim/],
    ['https://example.com/', { 'https://Auth0.com./plan': 'x' }, /invalid policy: rules\[0\]\.claims\.https:\/\/Auth0\.com\.\/plan: .*restricted/],
  ];
  for (const [ns, claims, want] of cases) {
    const policy = { claims_namespace: ns, on_error: 'deny', rules: [{ name: 'r', when: { trigger: 'post-login' }, claims: { plan: 'pro', ...claims } }] };
    const before = emu.count();
    const r = await runner.login(USERS.ada, { secrets: { POLICY: JSON.stringify(policy) } });
    assert.match(r.logs[0], want, `${ns} ${JSON.stringify(claims)}: ${r.logs[0]}`);
    assert.equal(r.denied, true);
    assert.deepEqual(r.idClaims, {}, 'no claim set');
    assert.equal(emu.count(), before);
  }
  const ok = await runner.login(USERS.ada, { secrets: { POLICY: JSON.stringify({ claims_namespace: 'https://example.com/', rules: [{ name: 'r', when: { trigger: 'post-login' }, claims: { plan: 'pro' } }] }) } });
  assert.equal(ok.idClaims['https://example.com/plan'], 'pro');
});

test('6. the policy JSON Schema agrees with the parser on namespaces; every example policy conforms', () => {
  const Ajv2020 = require('ajv/dist/2020');
  const fs = require('node:fs');
  const path = require('node:path');
  const dir = path.join(__dirname, '../pkg-scripts/policies');
  const validate = new Ajv2020({ strict: false }).compile(require('../pkg-scripts/policy.schema.json'));
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.test.json'));
  assert.ok(files.length >= 5);
  for (const f of files) assert.ok(validate(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))), `${f}: ${JSON.stringify(validate.errors)}`);
  const ns = (claims_namespace) => validate({ claims_namespace, rules: [] });
  for (const good of ['https://example.com/', 'https://example.com/claims/', 'http://localhost:3000/']) assert.ok(ns(good), good);
  for (const glued of ['https://example.com', 'https://example.com/claims', 'example.com/']) assert.ok(!ns(glued), glued);
});

// ---- 7. reply size cap ----------------------------------------------------------------------

const MB = 1024 * 1024;

test('7. a 50 MB roles page (chunked, or announced by content-length) is refused unread, quickly, in bounded memory', async () => {
  const { emu, runner } = await start({ secrets: { TIMEOUT_MS: '8000' } });
  const base = wasmBytes();
  for (const contentLength of [false, true]) {
    runner.newProcess(); // a cold container: nothing cached, a fresh instance
    runner.clearCache();
    const fault = emu.injectFault({ path: '/api/v2/roles', mode: 'huge', bytes: 50 * MB, contentLength });
    const r = await runner.login(USERS.ada);
    const what = contentLength ? 'with content-length' : 'chunked';
    assert.deepEqual(routes(r), [TOKEN, ROLES], what);
    assert.match(r.logs[0], /GET \/api\/v2\/roles returned a malformed response: body over 1 MB; rules=premium-for-google$/, `${what}: ${r.logs[0]}`);
    assert.ok(r.ms < 2000, `${what}: ended in ${r.ms} ms`);
    assert.ok(fault.sent < 20 * MB, `${what}: ${fault.sent} bytes were written before the Action hung up`);
    assert.ok(wasmBytes() < base + 8 * MB, `${what}: wasm memory ${wasmBytes()} bytes (was ${base})`);
    // The page is refused, the login is not broken: it is simply retried next time.
    assert.deepEqual(emu.users.get(USERS.ada).app_metadata.provisioning_pending, ['premium-for-google']);
  }
  const next = await runner.login(USERS.ada);
  assert.equal(next.outcome.error, null);
});

test('7. an error reply with a huge body keeps its status (a 503 is retried); a page under 1 MB is read', async () => {
  const { emu, runner } = await start();
  emu.injectFault({ path: '/api/v2/roles', mode: 'huge', status: 503, bytes: 5 * MB });
  const r = await runner.login(USERS.ada);
  assert.deepEqual(r.requests.map((q) => `${q.route} ${q.status}`), [`${TOKEN} 200`, `${ROLES} 503`, `${ROLES} 200`, `${ASSIGN} 204`]);
  assert.equal(r.outcome.error, null);
  // 1,000,000 bytes: under the bound, parsed, and simply does not hold the role.
  emu.injectFault({ path: '/api/v2/roles', mode: 'huge', bytes: 1000 * 1000, contentLength: true });
  const g = await runner.login(USERS.grace, { secrets: { POLICY: JSON.stringify({ rules: [{ name: 'h', when: { provider: 'google-oauth2' }, assign_roles: ['Nope'] }] }) } });
  assert.match(g.logs[0], /no role is named exactly "Nope"/, g.logs[0]);
});

// ---- 8. short-lived tokens -----------------------------------------------------------------

for (const lifetime of [30, 60]) {
  test(`8. a token that lives ${lifetime} s serves the whole login: 17 look-ups, one token request`, async () => {
    const { emu, runner } = await start({ ...seventeenRoles(), emulator: { tokenLifetime: lifetime } });
    const r = await runner.login(USERS.ada);
    assert.equal(r.outcome.error, null);
    assert.deepEqual(routes(r), [TOKEN, ...Array(17).fill(ROLES), ASSIGN]);
    assert.equal(emu.users.get(USERS.ada).roles.length, 17);
    // And the next login within its lifetime reuses it too.
    const next = await runner.login(USERS.grace);
    assert.deepEqual(routes(next), [ASSIGN]);
  });
}
