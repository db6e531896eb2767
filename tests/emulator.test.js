'use strict';
// Tests of the local tenant emulator (pkg-scripts/emulator/server.js) against the Management API
// wire format: every emulated operation is called over real HTTP and its response (and the request
// we send) is validated against the official OpenAPI subset (tests/fixtures, copied from shared/reference). Also covers auth,
// roles search and paging, the user path parameter, PATCH metadata semantics, the rate limit and
// fault injection.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
// Random, as real secrets are: the secret scan flags any 8-character piece of a secret, so a
// word-like one would match ordinary output (client ids, tool names).
const randomSecret = () => require('node:crypto').randomBytes(24).toString('base64url');
const fs = require('node:fs');
const path = require('node:path');
const { SPEC, ajv, API_ERROR, ptr, schemaAt, operation } = require('./openapi.js');

const { TenantEmulator } = require('../pkg-scripts/emulator/server.js');

const FIXTURE = JSON.parse(fs.readFileSync(path.join(__dirname, '../pkg-scripts/emulator/fixture.json'), 'utf8'));

const CLIENT = FIXTURE.clients[0];
const ADA = 'google-oauth2|101234567890123456789';
const ALAN = 'google-oauth2|100000000000000000042';
const DENNIS = 'auth0|6543a1b2c3d4e5f607182930';
const ROLE_PREMIUM = 'rol_premium0000001';
const ROLE_ADMIN = 'rol_admin00000001';
const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------------
// Schemas (tests/openapi.js loads the spec); operations are addressed by JSON pointer into `paths`.

// Not in the Management API spec (the token endpoint belongs to the Authentication API): the
// shapes of auth0-facts.md / RFC 6749 §5.1–5.2 and Auth0's error format.
const TOKEN_RESPONSE = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['access_token', 'expires_in', 'scope', 'token_type'],
  properties: {
    access_token: { type: 'string', minLength: 1 },
    expires_in: { type: 'integer', minimum: 1 },
    scope: { type: 'string' },
    token_type: { const: 'Bearer' },
  },
});
const OAUTH_ERROR = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['error', 'error_description'],
  properties: { error: { type: 'string', minLength: 1 }, error_description: { type: 'string' } },
});

function check(validate, value, what) {
  const ok = validate(value);
  assert.ok(ok, `${what} does not conform: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
}

/** Validates a request body we are about to send against the operation's requestBody schema. */
function assertValidRequest(template, method, body) {
  const op = operation(template, method);
  assert.ok(op.requestBody && op.requestBody.content['application/json'], `${method} ${template} takes no JSON body in the spec`);
  check(schemaAt(ptr('paths', template, method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema')), body,
    `request body of ${method} ${template}`);
}
function isValidRequest(template, method, body) {
  return schemaAt(ptr('paths', template, method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema'))(body);
}

/**
 * Validates a response against the spec: the status is one the operation documents; a documented
 * JSON body is validated against its schema; a 204 has an empty body yet a JSON content type (as
 * a real recording shows); error statuses carry Auth0's error body.
 */
function assertConforms(res, template, method, { documented = true } = {}) {
  const op = operation(template, method);
  const resp = op.responses[String(res.status)];
  if (documented) assert.ok(resp, `${method} ${template}: status ${res.status} is not documented in the spec`);
  assert.match(res.headers.get('content-type') || '', /^application\/json\b/, 'content type');
  if (res.status === 204 || (res.status < 300 && resp && !resp.content)) {
    assert.equal(res.text, '', `${res.status} without a documented body must have an empty body`);
    assert.ok(!res.headers.has('content-length') || res.headers.get('content-length') === '0');
    return;
  }
  if (res.status >= 400) {
    check(API_ERROR, res.json, `error body of ${method} ${template} (${res.status})`);
    assert.equal(res.json.statusCode, res.status);
    return;
  }
  assert.ok(resp && resp.content && resp.content['application/json'], `${method} ${template} ${res.status} has no JSON schema in the spec`);
  check(schemaAt(ptr('paths', template, method.toLowerCase(), 'responses', res.status, 'content', 'application/json', 'schema')),
    res.json, `response of ${method} ${template} (${res.status})`);
}

function assertApiError(res, status, errorCode) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') || '', /^application\/json\b/);
  check(API_ERROR, res.json, `error body (${status})`);
  assert.equal(res.json.statusCode, status);
  if (errorCode !== undefined) assert.equal(res.json.errorCode, errorCode);
}

function assertOAuthError(res, status, error) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') || '', /^application\/json\b/);
  check(OAUTH_ERROR, res.json, `OAuth error body (${status})`);
  assert.equal(res.json.error, error);
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

const CALL_TIMEOUT = 3000;

async function call(origin, method, pathAndQuery, { token, body, form, headers = {}, signal } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (form) {
    h['content-type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    h['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  // A request the emulator never answers fails the test instead of hanging it.
  const r = await fetch(origin + pathAndQuery, { method, headers: h, body: payload, signal: signal || AbortSignal.timeout(CALL_TIMEOUT) });
  const text = await r.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch (_) { json = undefined; }
  return { status: r.status, headers: r.headers, text, json };
}

function tokenRequest(origin, client = CLIENT, over = {}) {
  return {
    grant_type: 'client_credentials',
    client_id: client.client_id,
    client_secret: client.client_secret,
    audience: `${origin}/api/v2/`,
    ...over,
  };
}

async function getToken(origin, client = CLIENT) {
  const res = await call(origin, 'POST', '/oauth/token', { body: tokenRequest(origin, client) });
  assert.equal(res.status, 200, res.text);
  return res.json.access_token;
}

const clone = (x) => JSON.parse(JSON.stringify(x));

/** emu.stop(), failing (instead of hanging) if it does not complete within `ms`. */
async function stop(emu, ms = 2000) {
  let timer;
  const guard = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`stop() did not complete in ${ms} ms`)), ms); });
  try {
    await Promise.race([emu.stop(), guard]);
  } finally {
    clearTimeout(timer);
  }
}

async function withEmulator(fixture, opts, fn) {
  const emu = new TenantEmulator(fixture, opts);
  const origin = await emu.start();
  try {
    return await fn(emu, origin);
  } finally {
    await stop(emu);
  }
}

// ---------------------------------------------------------------------------------------------

describe('conformance to the Management API spec', () => {
  let emu, origin, token;
  before(async () => {
    emu = new TenantEmulator(FIXTURE);
    origin = await emu.start();
  });
  after(() => stop(emu));

  test('the spec declares every emulated operation', () => {
    for (const [t, m] of [['/roles', 'get'], ['/roles/{id}', 'get'], ['/users/{id}/roles', 'get'], ['/users/{id}/roles', 'post'],
      ['/users/{id}/roles', 'delete'], ['/users/{id}', 'get'], ['/users/{id}', 'patch'], ['/users/{id}/permissions', 'get'],
      ['/users/{id}/permissions', 'post'], ['/users/{id}/permissions', 'delete'], ['/tickets/password-change', 'post'],
      ['/guardian/enrollments/ticket', 'post']]) operation(t, m);
    assert.equal(new URL(SPEC.servers[0].url.replace('{tenantDomain}', 'x')).pathname, '/api/v2');
  });

  test('POST /oauth/token (JSON and form bodies) → {access_token, expires_in, scope, token_type}', async () => {
    const res = await call(origin, 'POST', '/oauth/token', { body: tokenRequest(origin) });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type'), /^application\/json\b/);
    check(TOKEN_RESPONSE, res.json, 'token response');
    assert.equal(res.json.expires_in, 86400);
    assert.deepEqual(res.json.scope.split(' ').sort(), [...CLIENT.scopes].sort());
    token = res.json.access_token;

    const form = await call(origin, 'POST', '/oauth/token', { form: tokenRequest(origin) });
    assert.equal(form.status, 200, form.text);
    check(TOKEN_RESPONSE, form.json, 'token response (form body)');
    assert.notEqual(form.json.access_token, token, 'each grant mints a new token');
  });

  test('GET /api/v2/roles → array of Role', async () => {
    token ||= await getToken(origin);
    const res = await call(origin, 'GET', '/api/v2/roles', { token });
    assertConforms(res, '/roles', 'get');
    assert.ok(Array.isArray(res.json));
    assert.deepEqual(res.json.map((r) => r.id).sort(), FIXTURE.roles.map((r) => r.id).sort());
  });

  test('GET /api/v2/roles?include_totals=true → {roles, start, limit, total}', async () => {
    token ||= await getToken(origin);
    const res = await call(origin, 'GET', '/api/v2/roles?include_totals=true&per_page=2&page=1', { token });
    assertConforms(res, '/roles', 'get');
    assert.ok(!Array.isArray(res.json));
    assert.deepEqual(Object.keys(res.json).sort(), ['limit', 'roles', 'start', 'total']);
    assert.deepEqual({ start: res.json.start, limit: res.json.limit, total: res.json.total }, { start: 2, limit: 2, total: FIXTURE.roles.length });
    assert.equal(res.json.roles.length, 2);
  });

  test('GET /api/v2/roles/{id} → Role; unknown id → 404', async () => {
    token ||= await getToken(origin);
    const res = await call(origin, 'GET', `/api/v2/roles/${ROLE_ADMIN}`, { token });
    assertConforms(res, '/roles/{id}', 'get');
    assert.deepEqual(res.json, FIXTURE.roles.find((r) => r.id === ROLE_ADMIN));

    const missing = await call(origin, 'GET', '/api/v2/roles/rol_doesNotExist', { token });
    assertConforms(missing, '/roles/{id}', 'get');
    assertApiError(missing, 404);
  });

  test('POST, GET, DELETE /api/v2/users/{id}/roles (204: empty body, JSON content type)', async () => {
    token ||= await getToken(origin);
    const p = `/api/v2/users/${enc(ADA)}/roles`;
    const before0 = await call(origin, 'GET', p, { token });
    assertConforms(before0, '/users/{id}/roles', 'get');
    assert.deepEqual(before0.json, []);

    const body = { roles: [ROLE_PREMIUM, ROLE_ADMIN] };
    assertValidRequest('/users/{id}/roles', 'post', body);
    const posted = await call(origin, 'POST', p, { token, body });
    assert.equal(posted.status, 204, posted.text);
    assertConforms(posted, '/users/{id}/roles', 'post');
    assert.equal(posted.headers.get('content-type'), 'application/json; charset=utf-8');

    const again = await call(origin, 'POST', p, { token, body: { roles: [ROLE_PREMIUM] } });
    assert.equal(again.status, 204, 'assigning a held role again is idempotent');

    const held = await call(origin, 'GET', `${p}?include_totals=true`, { token });
    assertConforms(held, '/users/{id}/roles', 'get');
    assert.deepEqual(held.json.roles.map((r) => r.id).sort(), [ROLE_ADMIN, ROLE_PREMIUM].sort());
    assert.equal(held.json.total, 2);

    const del = { roles: [ROLE_ADMIN] };
    assertValidRequest('/users/{id}/roles', 'delete', del);
    const removed = await call(origin, 'DELETE', p, { token, body: del });
    assert.equal(removed.status, 204, removed.text);
    assertConforms(removed, '/users/{id}/roles', 'delete');

    const after1 = await call(origin, 'GET', p, { token });
    assertConforms(after1, '/users/{id}/roles', 'get');
    assert.deepEqual(after1.json.map((r) => r.id), [ROLE_PREMIUM]);
    assert.deepEqual(emu.roleNames(ADA), ['Premium User']);
  });

  test('POST, GET, DELETE /api/v2/users/{id}/permissions (201 empty; unknown permission → 400)', async () => {
    token ||= await getToken(origin);
    const p = `/api/v2/users/${enc(DENNIS)}/permissions`;
    const body = { permissions: [{ resource_server_identifier: 'https://api.example.com/', permission_name: 'read:reports' }] };
    assertValidRequest('/users/{id}/permissions', 'post', body);
    const posted = await call(origin, 'POST', p, { token, body });
    assert.equal(posted.status, 201, posted.text);
    assertConforms(posted, '/users/{id}/permissions', 'post');
    const listed = await call(origin, 'GET', `${p}?include_totals=true`, { token });
    assertConforms(listed, '/users/{id}/permissions', 'get');
    assert.deepEqual(listed.json.permissions.map((x) => x.permission_name), ['read:reports']);
    const unknown = { permissions: [{ resource_server_identifier: 'https://api.example.com/', permission_name: 'fly:planes' }] };
    assertApiError(await call(origin, 'POST', p, { token, body: unknown }), 400, 'invalid_body');
    assert.equal(isValidRequest('/users/{id}/permissions', 'post', { permissions: [] }), false);
    assertApiError(await call(origin, 'POST', p, { token, body: { permissions: [] } }), 400, 'invalid_body');
    const removed = await call(origin, 'DELETE', p, { token, body });
    assertConforms(removed, '/users/{id}/permissions', 'delete');
    assert.deepEqual(emu.users.get(DENNIS).permissions, []);
  });

  test('POST /api/v2/tickets/password-change → 201 {ticket}; POST /api/v2/guardian/enrollments/ticket → {ticket_id, ticket_url}', async () => {
    token ||= await getToken(origin);
    const pw = { user_id: DENNIS, result_url: 'https://app.example.com/welcome', ttl_sec: 3600 };
    assertValidRequest('/tickets/password-change', 'post', pw);
    const t1 = await call(origin, 'POST', '/api/v2/tickets/password-change', { token, body: pw });
    assert.equal(t1.status, 201, t1.text);
    assertConforms(t1, '/tickets/password-change', 'post');
    assert.match(t1.json.ticket, /^http:\/\/127\.0\.0\.1:\d+\/lo\/reset\?ticket=/);
    const mfa = { user_id: DENNIS, send_mail: false };
    assertValidRequest('/guardian/enrollments/ticket', 'post', mfa);
    const t2 = await call(origin, 'POST', '/api/v2/guardian/enrollments/ticket', { token, body: mfa });
    assertConforms(t2, '/guardian/enrollments/ticket', 'post');
    assert.equal(typeof t2.json.ticket_id, 'string');
    assertApiError(await call(origin, 'POST', '/api/v2/tickets/password-change', { token, body: { user_id: 'auth0|nobody' } }), 404, 'inexistent_user');
    assertApiError(await call(origin, 'POST', '/api/v2/tickets/password-change', { token, body: { user_id: DENNIS, ttl_sec: -1 } }), 400, 'invalid_body');
  });

  test('invalid role-assignment bodies: the emulator and the spec schema agree (400 + Auth0 error)', async () => {
    token ||= await getToken(origin);
    const p = `/api/v2/users/${enc(DENNIS)}/roles`;
    for (const body of [{ roles: [] }, { role: [ROLE_ADMIN] }, { roles: [''] }, { roles: [ROLE_ADMIN], extra: 1 }, { roles: ROLE_ADMIN }, [ROLE_ADMIN]]) {
      assert.equal(isValidRequest('/users/{id}/roles', 'post', body), false, `spec accepts ${JSON.stringify(body)}`);
      const res = await call(origin, 'POST', p, { token, body });
      assertConforms(res, '/users/{id}/roles', 'post');
      assertApiError(res, 400, 'invalid_body');
    }
    // Well-formed but naming a role that does not exist.
    const unknown = await call(origin, 'POST', p, { token, body: { roles: ['rol_nope'] } });
    assertApiError(unknown, 400, 'invalid_body');
    // Malformed JSON.
    const r = await fetch(`${origin}${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"roles":' });
    assert.equal(r.status, 400);
    check(API_ERROR, await r.json(), 'malformed JSON error');
    // Nothing was assigned by any of the above.
    assert.deepEqual(emu.roleNames(DENNIS), []);
    // A user that does not exist: 404 (the spec lists it) on assigning, listing and removing.
    const nouser = await call(origin, 'POST', `/api/v2/users/${enc('auth0|nobody')}/roles`, { token, body: { roles: [ROLE_ADMIN] } });
    assertConforms(nouser, '/users/{id}/roles', 'post');
    assertApiError(nouser, 404, 'inexistent_user');
    for (const method of ['GET', 'DELETE']) {
      const res = await call(origin, method, `/api/v2/users/${enc('auth0|nobody')}/roles`, method === 'GET' ? { token } : { token, body: { roles: [ROLE_ADMIN] } });
      assertConforms(res, '/users/{id}/roles', method);
      assertApiError(res, 404, 'inexistent_user');
    }
  });

  test('GET /api/v2/users/{id} → user (GetUserResponseContent)', async () => {
    token ||= await getToken(origin);
    for (const id of [ALAN, DENNIS]) {
      const res = await call(origin, 'GET', `/api/v2/users/${enc(id)}`, { token });
      assertConforms(res, '/users/{id}', 'get');
      assert.equal(res.json.user_id, id);
      const provider = id.split('|')[0];
      assert.equal(res.json.identities[0].provider, provider);
      assert.equal(res.json.identities[0].isSocial, provider !== 'auth0');
      assert.equal(res.json.identities[0].user_id, id.split('|')[1]);
      assert.equal(typeof res.json.created_at, 'string');
      assert.ok(!('roles' in res.json), 'roles are not part of the user resource');
    }
    const missing = await call(origin, 'GET', `/api/v2/users/${enc('auth0|nobody')}`, { token });
    assertConforms(missing, '/users/{id}', 'get');
    assertApiError(missing, 404, 'inexistent_user');
  });

  test('PATCH /api/v2/users/{id} → updated user (UpdateUserResponseContent)', async () => {
    token ||= await getToken(origin);
    const body = { app_metadata: { plan: 'premium' } };
    assertValidRequest('/users/{id}', 'patch', body);
    const res = await call(origin, 'PATCH', `/api/v2/users/${enc(ALAN)}`, { token, body });
    assertConforms(res, '/users/{id}', 'patch');
    assert.deepEqual(res.json.app_metadata, { plan: 'premium' });

    const missing = await call(origin, 'PATCH', `/api/v2/users/${enc('auth0|nobody')}`, { token, body });
    assertConforms(missing, '/users/{id}', 'patch');
    assertApiError(missing, 404, 'inexistent_user');

    assert.equal(isValidRequest('/users/{id}', 'patch', [1]), false);
    const bad = await call(origin, 'PATCH', `/api/v2/users/${enc(ALAN)}`, { token, body: [1] });
    assertConforms(bad, '/users/{id}', 'patch');
    assertApiError(bad, 400, 'invalid_body');
  });

  test('an unknown route is a JSON 404', async () => {
    token ||= await getToken(origin);
    for (const [m, p] of [['GET', '/api/v2/nothing'], ['PUT', `/api/v2/users/${enc(ADA)}`], ['GET', '/']]) {
      const res = await call(origin, m, p, { token });
      assertApiError(res, 404);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('authentication and scopes', () => {
  const limited = { client_id: 'reader-only', client_secret: randomSecret(), scopes: ['read:roles'] };
  const assigner = { client_id: 'assign-only', client_secret: randomSecret(), scopes: ['create:role_members'] };
  let emu, origin;
  before(async () => {
    const f = clone(FIXTURE);
    f.clients.push(limited, assigner);
    emu = new TenantEmulator(f);
    origin = await emu.start();
  });
  after(() => stop(emu));

  test('wrong client secret or unknown client → 401 (OAuth error body)', async () => {
    assertOAuthError(await call(origin, 'POST', '/oauth/token', { body: tokenRequest(origin, CLIENT, { client_secret: 'nope' }) }), 401, 'access_denied');
    assertOAuthError(await call(origin, 'POST', '/oauth/token', { body: tokenRequest(origin, CLIENT, { client_id: 'who' }) }), 401, 'access_denied');
    assertOAuthError(await call(origin, 'POST', '/oauth/token', { form: tokenRequest(origin, CLIENT, { client_secret: '' }) }), 401, 'access_denied');
  });

  test('wrong audience → 403 (OAuth error body)', async () => {
    for (const audience of ['https://example.auth0.com/api/v2/', `${origin}/api/v2`, `${origin}/api/v1/`]) {
      assertOAuthError(await call(origin, 'POST', '/oauth/token', { body: tokenRequest(origin, CLIENT, { audience }) }), 403, 'access_denied');
    }
  });

  test('wrong grant type → 400 unsupported_grant_type', async () => {
    assertOAuthError(await call(origin, 'POST', '/oauth/token', { body: tokenRequest(origin, CLIENT, { grant_type: 'password' }) }), 400, 'unsupported_grant_type');
  });

  test('missing or invalid bearer → 401 invalid_token on every /api/v2 route', async () => {
    const routes = [['GET', '/api/v2/roles'], ['GET', `/api/v2/roles/${ROLE_ADMIN}`], ['GET', `/api/v2/users/${enc(ADA)}/roles`],
      ['POST', `/api/v2/users/${enc(ADA)}/roles`, { roles: [ROLE_ADMIN] }], ['DELETE', `/api/v2/users/${enc(ADA)}/roles`, { roles: [ROLE_ADMIN] }],
      ['GET', `/api/v2/users/${enc(ADA)}`], ['PATCH', `/api/v2/users/${enc(ADA)}`, { app_metadata: { x: 1 } }]];
    const good = await getToken(origin);
    for (const [m, p, body] of routes) {
      for (const headers of [{}, { authorization: 'Bearer not-a-token' }, { authorization: `Basic ${good}` }, { authorization: good }]) {
        const res = await call(origin, m, p, { headers, body });
        assertApiError(res, 401, 'invalid_token');
      }
    }
    assert.deepEqual(emu.roleNames(ADA), [], 'no unauthenticated write went through');
    assert.deepEqual((await call(origin, 'GET', `/api/v2/users/${enc(ADA)}`, { token: good })).json.app_metadata, {});
  });

  test('an expired token → 401', async () => {
    await withEmulator(FIXTURE, { tokenLifetime: 0.05 }, async (e, o) => {
      const t = await getToken(o);
      await new Promise((r) => setTimeout(r, 80));
      const res = await call(o, 'GET', '/api/v2/roles', { token: t });
      assertApiError(res, 401, 'invalid_token');
      assert.match(res.json.message, /expired/i);
    });
  });

  test('a client lacking a scope → 403 insufficient_scope', async () => {
    const rt = await call(origin, 'POST', '/oauth/token', { body: tokenRequest(origin, limited) });
    assert.equal(rt.json.scope, 'read:roles');
    const t = rt.json.access_token;
    assertConforms(await call(origin, 'GET', '/api/v2/roles', { token: t }), '/roles', 'get');
    for (const [m, p, body] of [['GET', `/api/v2/users/${enc(ADA)}`], ['PATCH', `/api/v2/users/${enc(ADA)}`, { app_metadata: { x: 1 } }],
      ['POST', `/api/v2/users/${enc(ADA)}/roles`, { roles: [ROLE_ADMIN] }], ['DELETE', `/api/v2/users/${enc(ADA)}/roles`, { roles: [ROLE_ADMIN] }]]) {
      const res = await call(origin, m, p, { token: t, body });
      assertApiError(res, 403, 'insufficient_scope');
    }
    assert.deepEqual(emu.roleNames(ADA), []);

    // create:role_members is enough to assign (either scope of the spec's list) but not to remove.
    const t2 = await getToken(origin, assigner);
    const p = `/api/v2/users/${enc(ADA)}/roles`;
    assert.equal((await call(origin, 'POST', p, { token: t2, body: { roles: [ROLE_ADMIN] } })).status, 204);
    assertApiError(await call(origin, 'DELETE', p, { token: t2, body: { roles: [ROLE_ADMIN] } }), 403, 'insufficient_scope');
    assertApiError(await call(origin, 'GET', '/api/v2/roles', { token: t2 }), 403, 'insufficient_scope');
    assert.deepEqual(emu.roleNames(ADA), ['Admin']);
  });
});

// ---------------------------------------------------------------------------------------------

describe('roles search and paging', () => {
  let emu, origin, token;
  const many = clone(FIXTURE);
  for (let i = 0; i < 150; i++) many.roles.push({ id: `rol_bulk${String(i).padStart(4, '0')}`, name: `Bulk Role ${i}`, description: `bulk ${i}` });
  before(async () => {
    emu = new TenantEmulator(many);
    origin = await emu.start();
    token = await getToken(origin);
  });
  after(() => stop(emu));
  const list = (q) => call(origin, 'GET', `/api/v2/roles?${q}`, { token });

  test('name_filter is a case-insensitive partial match', async () => {
    const expected = ['Premium User', 'Premium User (Legacy)', 'premium user trial'];
    for (const f of ['premium user', 'Premium User', 'PREMIUM USER', 'mium us']) {
      const res = await list(`name_filter=${enc(f)}`);
      assertConforms(res, '/roles', 'get');
      assert.deepEqual(res.json.map((r) => r.name).sort(), expected, `name_filter=${f}`);
    }
    const legacy = await list(`name_filter=${enc('(legacy)')}`);
    assert.deepEqual(legacy.json.map((r) => r.id), ['rol_legacyPremium01'], 'not a regular expression');
    assert.deepEqual((await list('name_filter=nothing-like-this')).json, []);
    assert.deepEqual((await list('name_filter=admin')).json.map((r) => r.id), [ROLE_ADMIN]);
  });

  test('name_filter combines with include_totals (total counts the matches)', async () => {
    const res = await list(`name_filter=${enc('premium user')}&include_totals=true&per_page=2&page=0`);
    assertConforms(res, '/roles', 'get');
    assert.equal(res.json.total, 3);
    assert.equal(res.json.roles.length, 2);
    const p1 = await list(`name_filter=${enc('premium user')}&include_totals=true&per_page=2&page=1`);
    assert.deepEqual({ start: p1.json.start, limit: p1.json.limit, total: p1.json.total, n: p1.json.roles.length }, { start: 2, limit: 2, total: 3, n: 1 });
  });

  test('paging across 154 roles with per_page/page and include_totals', async () => {
    const total = many.roles.length;
    const seen = [];
    for (let page = 0; page < 3; page++) {
      const res = await list(`per_page=60&page=${page}&include_totals=true`);
      assertConforms(res, '/roles', 'get');
      assert.equal(res.json.start, page * 60);
      assert.equal(res.json.limit, 60);
      assert.equal(res.json.total, total);
      assert.equal(res.json.roles.length, Math.min(60, total - page * 60));
      seen.push(...res.json.roles.map((r) => r.id));
    }
    assert.equal(new Set(seen).size, total, 'pages neither overlap nor skip');
    assert.deepEqual(seen, many.roles.map((r) => r.id), 'stable order');

    const past = await list('per_page=100&page=2&include_totals=true');
    assertConforms(past, '/roles', 'get');
    assert.deepEqual(past.json, { roles: [], start: 200, limit: 100, total });

    const max = await list('per_page=100');
    assert.equal(max.json.length, 100);
    const dflt = await list('include_totals=true');
    assert.equal(dflt.json.limit, 50, 'default per_page');
    assert.equal(dflt.json.roles.length, 50);
    assert.equal((await list('include_totals=false&per_page=3')).json.length, 3, 'include_totals=false → plain array');
  });

  test('per_page outside 1..100 or a bad page → 400 invalid_query_string', async () => {
    for (const q of ['per_page=0', 'per_page=101', 'per_page=-1', 'per_page=abc', 'per_page=2.5', 'per_page=', 'page=-1', 'page=x', 'page=1.5']) {
      const res = await list(q);
      assertConforms(res, '/roles', 'get');
      assertApiError(res, 400, 'invalid_query_string');
    }
    const ur = await call(origin, 'GET', `/api/v2/users/${enc(ADA)}/roles?per_page=101`, { token });
    assertApiError(ur, 400, 'invalid_query_string');
    for (const q of ['per_page=1', 'per_page=100', 'page=0']) assert.equal((await list(q)).status, 200, q);
  });
});

// ---------------------------------------------------------------------------------------------

describe('user path parameter and PATCH semantics', () => {
  const SAML = 'samlp|corp/jdoe';
  let emu, origin, token;
  before(async () => {
    const f = clone(FIXTURE);
    f.connections.push({ id: 'con_saml', name: 'corp-saml', strategy: 'samlp' });
    f.users.push({ user_id: SAML, email: 'jdoe@corp.example', name: 'J Doe', connection: 'corp-saml', roles: [] });
    f.users.push({
      user_id: 'auth0|meta', email: 'meta@example.com', connection: 'Username-Password-Authentication',
      app_metadata: { plan: 'pro', flags: { a: 1, b: 2 }, keep: 'x' }, user_metadata: { theme: 'dark' },
      created_at: '2024-01-01T00:00:00.000Z', updated_at: '2024-01-01T00:00:00.000Z',
    });
    emu = new TenantEmulator(f);
    origin = await emu.start();
    token = await getToken(origin);
  });
  after(() => stop(emu));

  test('a user id with | percent-encoded (or left bare) reaches the user', async () => {
    const encoded = await call(origin, 'GET', `/api/v2/users/${enc(ADA)}`, { token });
    assert.ok(enc(ADA).includes('%7C'));
    assertConforms(encoded, '/users/{id}', 'get');
    assert.equal(encoded.json.user_id, ADA);
    const lower = await call(origin, 'GET', `/api/v2/users/${enc(ADA).replace('%7C', '%7c')}`, { token });
    assert.equal(lower.json.user_id, ADA);
    const bare = await call(origin, 'GET', `/api/v2/users/${ADA}`, { token });
    assert.equal(bare.json.user_id, ADA);
    const roles = await call(origin, 'GET', `/api/v2/users/${enc(ALAN)}/roles`, { token });
    assert.deepEqual(roles.json.map((r) => r.id), [ROLE_PREMIUM]);
  });

  test('a / in an id must be encoded: unencoded it is another route (404) and never reaches the user', async () => {
    const ok = await call(origin, 'GET', `/api/v2/users/${enc(SAML)}`, { token });
    assert.ok(enc(SAML).includes('%2F'));
    assertConforms(ok, '/users/{id}', 'get');
    assert.equal(ok.json.user_id, SAML);
    assert.equal(ok.json.identities[0].provider, 'samlp');

    const n = emu.count();
    for (const [m, p, body] of [['GET', `/api/v2/users/${SAML}`], ['PATCH', `/api/v2/users/${SAML}`, { app_metadata: { hacked: true } }],
      ['POST', `/api/v2/users/${SAML}/roles`, { roles: [ROLE_ADMIN] }], ['GET', `/api/v2/users/${SAML}/roles`]]) {
      const res = await call(origin, m, p, { token, body });
      assertApiError(res, 404);
      assert.equal(res.json.message, 'Not Found');
      assert.ok(!('user_id' in res.json));
    }
    assert.equal(emu.count() - n, 4);
    assert.deepEqual(emu.requests.slice(-4).map((r) => r.client_id), [undefined, undefined, undefined, undefined], 'no handler ran');
    const after1 = await call(origin, 'GET', `/api/v2/users/${enc(SAML)}`, { token });
    assert.deepEqual(after1.json.app_metadata, {});
    assert.deepEqual(emu.roleNames(SAML), []);
  });

  test('a malformed percent-encoding → 400 invalid_uri', async () => {
    const res = await call(origin, 'GET', '/api/v2/users/auth0%7', { token });
    assertApiError(res, 400, 'invalid_uri');
    assertConforms(res, '/users/{id}', 'get');
  });

  test('PATCH merges app_metadata at the first level; null deletes a key', async () => {
    const p = `/api/v2/users/${enc('auth0|meta')}`;
    const body = { app_metadata: { flags: { c: 3 }, plan: null, added: [1, 2] } };
    assertValidRequest('/users/{id}', 'patch', body);
    const res = await call(origin, 'PATCH', p, { token, body });
    assertConforms(res, '/users/{id}', 'patch');
    assert.deepEqual(res.json.app_metadata, { flags: { c: 3 }, keep: 'x', added: [1, 2] }, 'nested objects are replaced, not merged');
    assert.deepEqual(res.json.user_metadata, { theme: 'dark' }, 'user_metadata untouched');
    assert.ok(Date.parse(res.json.updated_at) > Date.parse('2024-01-01T00:00:00.000Z'), 'updated_at moves');
    assert.equal(res.json.created_at, '2024-01-01T00:00:00.000Z');

    const got = await call(origin, 'GET', p, { token });
    assertConforms(got, '/users/{id}', 'get');
    assert.deepEqual(got.json.app_metadata, { flags: { c: 3 }, keep: 'x', added: [1, 2] }, 'persisted');

    const um = { user_metadata: { theme: null, lang: 'en' } };
    assertValidRequest('/users/{id}', 'patch', um);
    const res2 = await call(origin, 'PATCH', p, { token, body: um });
    assert.deepEqual(res2.json.user_metadata, { lang: 'en' });
    assert.deepEqual(res2.json.app_metadata, { flags: { c: 3 }, keep: 'x', added: [1, 2] }, 'app_metadata untouched');

    const del = await call(origin, 'PATCH', p, { token, body: { app_metadata: { missing: null } } });
    assert.equal(del.status, 200, 'deleting an absent key is fine');
  });

  // Metadata must be an object (spec AppMetadata), and {} clears it (Auth0's docs).
  test('PATCH with a non-object app_metadata is rejected (spec AppMetadata: type object)', async () => {
    const p = `/api/v2/users/${enc(DENNIS)}`;
    assert.equal(isValidRequest('/users/{id}', 'patch', { app_metadata: 'ab' }), false);
    const res = await call(origin, 'PATCH', p, { token, body: { app_metadata: 'ab' } });
    const got = await call(origin, 'GET', p, { token });
    assert.deepEqual(got.json.app_metadata, {}, 'app_metadata was corrupted');
    assertApiError(res, 400);
  });

  test('PATCH with app_metadata: {} removes the metadata (Auth0 docs)', async () => {
    const p = `/api/v2/users/${enc('auth0|meta')}`;
    const res = await call(origin, 'PATCH', p, { token, body: { app_metadata: {} } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.app_metadata, {});
  });
});

// ---------------------------------------------------------------------------------------------

describe('rate limit', () => {
  const now = () => Date.now() / 1000;
  function assertRateHeaders(res, limit) {
    for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) {
      assert.ok(res.headers.has(h), `${h} missing on a ${res.status}`);
      assert.match(res.headers.get(h), /^\d+$/, h);
    }
    assert.equal(res.headers.get('x-ratelimit-limit'), String(limit));
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    assert.ok(Math.abs(reset - now()) <= 5, `x-ratelimit-reset ${reset} is not UNIX epoch seconds near ${now()}`);
    return Number(res.headers.get('x-ratelimit-remaining'));
  }

  test('burst 2: the third immediate request is a 429 with the Auth0 error body; headers on every response', async () => {
    await withEmulator(FIXTURE, { rateLimit: { burst: 2, perSecond: 2 } }, async (emu, origin) => {
      const tok = await call(origin, 'POST', '/oauth/token', { body: tokenRequest(origin) });
      assert.equal(tok.status, 200);
      assert.equal(assertRateHeaders(tok, 2), 1);
      const t = tok.json.access_token;
      const second = await call(origin, 'GET', '/api/v2/roles', { token: t });
      assert.equal(second.status, 200);
      assert.equal(assertRateHeaders(second, 2), 0);
      const third = await call(origin, 'GET', '/api/v2/roles', { token: t });
      assertConforms(third, '/roles', 'get');
      assertApiError(third, 429, 'too_many_requests');
      assert.equal(third.json.error, 'Too Many Requests');
      assert.equal(assertRateHeaders(third, 2), 0);
      assert.ok(!third.headers.has('retry-after'), 'no Retry-After unless asked for');
      assert.ok(Number(third.headers.get('x-ratelimit-reset')) >= Math.floor(now()), 'reset is not in the past');
      // Limited requests are recorded as such, and errors (401) are limited and carry headers too.
      assert.equal(emu.requests.filter((r) => r.limited).length, 1);
      const unauth = await call(origin, 'GET', '/api/v2/roles');
      assert.equal(unauth.status, 429);
      assertRateHeaders(unauth, 2);
      // A 204 carries the headers too, once the bucket has refilled.
      await new Promise((r) => setTimeout(r, 550));
      const posted = await call(origin, 'POST', `/api/v2/users/${enc(ADA)}/roles`, { token: t, body: { roles: [ROLE_ADMIN] } });
      assert.equal(posted.status, 204);
      assertRateHeaders(posted, 2);
    });
  });

  test('the bucket refills at perSecond', async () => {
    await withEmulator(FIXTURE, { rateLimit: { burst: 1, perSecond: 10 } }, async (emu, origin) => {
      assert.equal((await call(origin, 'GET', '/api/v2/roles')).status, 401);
      assert.equal((await call(origin, 'GET', '/api/v2/roles')).status, 429);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal((await call(origin, 'GET', '/api/v2/roles')).status, 401, 'a token came back after 100 ms');
    });
  });

  test('retryAfter: a 429 also has Retry-After (delta seconds)', async () => {
    await withEmulator(FIXTURE, { rateLimit: { burst: 2, perSecond: 2 }, retryAfter: true }, async (emu, origin) => {
      const t = await getToken(origin);
      const ok = await call(origin, 'GET', '/api/v2/roles', { token: t });
      assert.equal(ok.status, 200);
      assert.ok(!ok.headers.has('retry-after'), 'only on 429s');
      const limited = await call(origin, 'GET', '/api/v2/roles', { token: t });
      assertApiError(limited, 429, 'too_many_requests');
      assert.match(limited.headers.get('retry-after') || '', /^[1-9]\d*$/);
      assert.ok(Number(limited.headers.get('retry-after')) <= 2);
      assertRateHeaders(limited, 2);
    });
  });

  test('no rate limit configured: no rate-limit headers, no 429', async () => {
    await withEmulator(FIXTURE, {}, async (emu, origin) => {
      for (let i = 0; i < 5; i++) {
        const res = await call(origin, 'GET', '/api/v2/roles');
        assert.equal(res.status, 401);
        assert.ok(!res.headers.has('x-ratelimit-limit'));
      }
      emu.setRateLimit({ burst: 1, perSecond: 1 });
      assert.equal((await call(origin, 'GET', '/api/v2/roles')).status, 401);
      assert.equal((await call(origin, 'GET', '/api/v2/roles')).status, 429);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('fault injection', () => {
  let emu, origin, token;
  before(async () => {
    emu = new TenantEmulator(FIXTURE);
    origin = await emu.start();
    token = await getToken(origin);
  });
  after(() => stop(emu));
  const roles = (opts = {}) => call(origin, 'GET', '/api/v2/roles', { token, ...opts });

  test('status: Auth0 error body, consumed `times` times, then normal service', async () => {
    emu.clearFaults();
    emu.injectFault({ path: '/api/v2/roles', status: 503, times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await roles();
      assertApiError(res, 503);
      assert.equal(res.json.error, 'Service Unavailable');
    }
    const ok = await roles();
    assert.equal(ok.status, 200);
    assertConforms(ok, '/roles', 'get');
    assert.deepEqual(emu.requests.slice(-3).map((r) => r.fault), ['status', 'status', undefined]);
  });

  test('status: default 500, custom body and headers, method and RegExp filters', async () => {
    emu.clearFaults();
    emu.injectFault({ method: 'POST', path: /\/users\/[^/]+\/roles$/ });
    emu.injectFault({ path: '/oauth/token', status: 429, headers: { 'retry-after': '7' }, body: { error: 'too_many_requests', error_description: 'slow down' } });
    const p = `/api/v2/users/${enc(ADA)}/roles`;
    assert.equal((await call(origin, 'GET', p, { token })).status, 200, 'a GET does not take a POST fault');
    const fault = await call(origin, 'POST', p, { token, body: { roles: [ROLE_ADMIN] } });
    assertApiError(fault, 500);
    assert.deepEqual(emu.roleNames(ADA), [], 'the faulted request did not reach the handler');
    assert.equal((await call(origin, 'POST', p, { token, body: { roles: [ROLE_ADMIN] } })).status, 204);
    const tok = await call(origin, 'POST', '/oauth/token', { body: tokenRequest(origin) });
    assertOAuthError(tok, 429, 'too_many_requests');
    assert.equal(tok.headers.get('retry-after'), '7');
    assert.equal((await call(origin, 'POST', '/oauth/token', { body: tokenRequest(origin) })).status, 200);
    assert.equal(emu.count('POST /api/v2/users/{id}/roles'), 2);
    await call(origin, 'DELETE', p, { token, body: { roles: [ROLE_ADMIN] } });
  });

  test('times: Infinity persists until clearFaults', async () => {
    emu.clearFaults();
    emu.injectFault({ path: '/api/v2/roles', status: 502, times: Infinity });
    for (let i = 0; i < 4; i++) assert.equal((await roles()).status, 502);
    emu.clearFaults();
    assert.equal((await roles()).status, 200);
  });

  test('html: a 502 text/html page', async () => {
    emu.clearFaults();
    emu.injectFault({ path: '/api/v2/roles', mode: 'html' });
    const res = await roles();
    assert.equal(res.status, 502);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    assert.match(res.text, /^<html>/);
    assert.equal(res.json, undefined);
    assert.equal((await roles()).status, 200, 'consumed once');
  });

  test('truncated: 200 JSON content type, body not parseable', async () => {
    emu.clearFaults();
    emu.injectFault({ path: '/api/v2/roles', mode: 'truncated' });
    const r = await fetch(`${origin}/api/v2/roles`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json\b/);
    await assert.rejects(r.json(), SyntaxError);
    assert.equal((await roles()).status, 200, 'consumed once');
  });

  test('empty: 200 JSON content type, empty body', async () => {
    emu.clearFaults();
    emu.injectFault({ path: '/api/v2/roles', mode: 'empty', status: 201 });
    const r = await fetch(`${origin}/api/v2/roles`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 201);
    assert.match(r.headers.get('content-type'), /^application\/json\b/);
    assert.equal(await r.text(), '');
    assert.equal((await roles()).status, 200, 'consumed once');
  });

  test('reset: the connection is dropped (fetch rejects)', async () => {
    emu.clearFaults();
    emu.injectFault({ path: '/api/v2/roles', mode: 'reset' });
    await assert.rejects(roles(), TypeError);
    assert.equal(emu.requests.at(-1).fault, 'reset');
    assert.equal((await roles()).status, 200, 'consumed once');
  });

  test('hang: never answers; a client timeout aborts it', async () => {
    emu.clearFaults();
    emu.injectFault({ path: '/api/v2/roles', mode: 'hang' });
    const t0 = Date.now();
    await assert.rejects(roles({ signal: AbortSignal.timeout(300) }), (e) => e.name === 'TimeoutError');
    const dt = Date.now() - t0;
    assert.ok(dt >= 250 && dt < 2000, `aborted after ${dt} ms`);
    assert.equal((await roles({ signal: AbortSignal.timeout(2000) })).status, 200, 'consumed once');
  });

  test('stop() completes with a hung request in flight (and fails it)', async () => {
    const e = new TenantEmulator(FIXTURE);
    const o = await e.start();
    let pending;
    const t0 = Date.now();
    try {
      e.injectFault({ mode: 'hang' });
      pending = fetch(`${o}/api/v2/roles`, { signal: AbortSignal.timeout(CALL_TIMEOUT) }).then(() => 'answered', () => 'failed');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(e.requests.at(-1).fault, 'hang');
    } finally {
      await stop(e);
    }
    assert.equal(await pending, 'failed');
    assert.ok(Date.now() - t0 < 1500, 'failed by stop(), not by the client timeout');
  });
});
