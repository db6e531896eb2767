'use strict';
// The emulator's Deploy CLI read endpoints (pkg-scripts/emulator/deploy-cli-api.js) over real
// HTTP, each reply validated against the OpenAPI subset: GET /actions/triggers, GET
// /actions/modules, GET /clients (paging, totals, filters, fields, checkpoint), their scopes and
// query errors. tests/deploy-cli.test.js runs the real Deploy CLI against the same endpoints.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
// Random, as real secrets are: the secret scan flags any 8-character piece of a secret, so a
// word-like one would match ordinary output (client ids, tool names).
const randomSecret = () => require('node:crypto').randomBytes(24).toString('base64url');
const { ajv, API_ERROR, ptr, schemaAt, operation } = require('./openapi.js');
const { TenantEmulator } = require('../pkg-scripts/emulator/server.js');
const { TRIGGERS } = require('../pkg-scripts/emulator/actions-store.js');
const { viewOf } = require('../pkg-scripts/emulator/deploy-cli-api.js');
const { actionsOf } = require('../pkg-scripts/emulator/actions-api.js');
const FIXTURE = require('../pkg-scripts/emulator/fixture.json');

const clone = (x) => JSON.parse(JSON.stringify(x));
const READER = { client_id: 'cli-reader', client_secret: randomSecret(), scopes: ['read:actions', 'read:clients'] };
const ROLES_ONLY = { client_id: 'roles-only', client_secret: randomSecret(), scopes: ['read:roles'] };
const SUMMARY = { client_id: 'summary-reader', client_secret: randomSecret(), scopes: ['read:client_summary'] };

function fixture(extra = {}) {
  const f = clone(FIXTURE);
  f.clients.push(READER, ROLES_ONLY, SUMMARY);
  f.applications.push({ client_id: 'spa-client', name: 'Dashboard', app_type: 'spa' });
  return { ...f, ...extra };
}

async function token(origin, client) {
  const res = await fetch(`${origin}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret, audience: `${origin}/api/v2/` }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).access_token;
}

async function get(origin, path, tok) {
  const res = await fetch(origin + path, { headers: tok ? { authorization: `Bearer ${tok}` } : {}, signal: AbortSignal.timeout(3000) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') || '', text, json: text ? JSON.parse(text) : undefined };
}

/** The reply is a documented status; its body validates against the spec (or is Auth0's error body). */
function assertConforms(res, template) {
  const op = operation(template, 'get');
  assert.ok(op.responses[String(res.status)], `GET ${template}: status ${res.status} is not documented`);
  assert.match(res.type, /^application\/json\b/);
  if (res.status >= 400) {
    assert.ok(API_ERROR(res.json), `error body: ${ajv.errorsText(API_ERROR.errors)} ${res.text}`);
    assert.equal(res.json.statusCode, res.status);
    return;
  }
  const v = schemaAt(ptr('paths', template, 'get', 'responses', res.status, 'content', 'application/json', 'schema'));
  assert.ok(v(res.json), `GET ${template} does not conform: ${ajv.errorsText(v.errors)}\n${res.text}`);
}

const CHECKPOINT_PAGE = schemaAt(ptr('components', 'schemas', 'ListClientsPaginatedResponseContent'));

describe('GET /api/v2/actions/triggers, /actions/modules and /clients', () => {
  let emu, origin, tok;
  before(async () => {
    emu = new TenantEmulator(fixture({ action_modules: [{ name: 'shared-utils' }, { name: 'http-helpers' }, { name: 'logging' }] }));
    origin = await emu.start();
    tok = await token(origin, READER);
  });
  after(() => emu.stop());

  test('triggers: every trigger once, at the version actions-api.js gives an Action without one', async () => {
    const res = await get(origin, '/api/v2/actions/triggers', tok);
    assert.equal(res.status, 200, res.text);
    assertConforms(res, '/actions/triggers');
    assert.deepEqual(res.json.triggers.map((t) => t.id), TRIGGERS);
    const seeded = new TenantEmulator({ ...fixture(), actions: TRIGGERS.map((id) => ({ name: `a-${id}`, supported_triggers: [{ id }] })) });
    const versions = Object.fromEntries([...actionsOf(seeded).store().actions.values()].map((a) => [a.supported_triggers[0].id, a.supported_triggers[0].version]));
    for (const t of res.json.triggers) assert.equal(t.version, versions[t.id], t.id);
    assert.equal(res.json.triggers.find((t) => t.id === 'post-login').version, 'v3');
    const bad = await get(origin, '/api/v2/actions/triggers?page=0', tok);
    assert.equal(bad.status, 400, 'the operation takes no query parameters');
    assertConforms(bad, '/actions/triggers');
  });

  test('modules: paged as a0deploy asks (page=0&per_page=100), all of them without per_page, bad paging is a 400', async () => {
    const all = await get(origin, '/api/v2/actions/modules?page=0&per_page=100', tok);
    assertConforms(all, '/actions/modules');
    assert.deepEqual(all.json.modules.map((m) => m.name), ['shared-utils', 'http-helpers', 'logging']);
    assert.equal(all.json.total, 3);
    const second = await get(origin, '/api/v2/actions/modules?page=1&per_page=2', tok);
    assertConforms(second, '/actions/modules');
    assert.deepEqual(second.json.modules.map((m) => m.name), ['logging']);
    assert.deepEqual((await get(origin, '/api/v2/actions/modules', tok)).json.modules.length, 3);
    for (const q of ['per_page=0', 'per_page=101', 'page=-1', 'page=x', 'include_totals=true']) {
      const bad = await get(origin, `/api/v2/actions/modules?${q}`, tok);
      assert.equal(bad.status, 400, q);
      assertConforms(bad, '/actions/modules');
    }
    const none = new TenantEmulator(fixture());
    assert.deepEqual(viewOf(none).listActionModules([], new URLSearchParams('page=0&per_page=100')).body, { modules: [], total: 0, page: 0, per_page: 100 });
  });

  test('clients: an array by default, {start, limit, total, clients} with include_totals, never a client secret', async () => {
    const plain = await get(origin, '/api/v2/clients', tok);
    assertConforms(plain, '/clients');
    assert.ok(Array.isArray(plain.json));
    const ids = plain.json.map((c) => c.client_id);
    assert.deepEqual(ids, [...emu.clients.map((c) => c.client_id), ...emu.applications.map((a) => a.client_id)]);
    assert.equal(plain.json.find((c) => c.client_id === READER.client_id).app_type, 'non_interactive');
    assert.equal(plain.json.find((c) => c.client_id === 'spa-client').app_type, 'spa');
    for (const c of emu.clients) assert.ok(!plain.text.includes(c.client_secret), 'a client secret in GET /clients');

    const totals = await get(origin, '/api/v2/clients?page=0&per_page=100&include_totals=true', tok);
    assertConforms(totals, '/clients');
    assert.deepEqual({ ...totals.json, clients: totals.json.clients.length }, { start: 0, limit: 100, total: ids.length, clients: ids.length });
    const page = await get(origin, '/api/v2/clients?page=1&per_page=2&include_totals=true', tok);
    assert.deepEqual(page.json.clients.map((c) => c.client_id), ids.slice(2, 4));
    assert.equal(page.json.start, 2);
  });

  test('clients: app_type / is_first_party filters, fields, and checkpoint paging (from/take → next)', async () => {
    const spa = await get(origin, '/api/v2/clients?app_type=spa,regular_web', tok);
    assertConforms(spa, '/clients');
    assert.deepEqual(spa.json.map((c) => c.client_id), ['web-app-client', 'spa-client']);
    assert.deepEqual((await get(origin, '/api/v2/clients?is_first_party=false', tok)).json, []);
    const names = await get(origin, '/api/v2/clients?fields=client_id,name&include_fields=true', tok);
    assertConforms(names, '/clients');
    assert.ok(names.json.every((c) => Object.keys(c).join() === 'client_id,name'));
    const without = await get(origin, '/api/v2/clients?fields=grant_types&include_fields=false', tok);
    assert.ok(without.json.every((c) => !('grant_types' in c) && 'client_id' in c));

    const seen = [];
    let next = '';
    for (let i = 0; i < 10; i++) {
      const res = await get(origin, `/api/v2/clients?take=2${next ? `&from=${next}` : ''}`, tok);
      // The last page ({clients} without next) matches both object shapes of the spec's oneOf
      // (all their fields are optional), so each page is checked against the checkpoint shape.
      assert.equal(res.status, 200);
      assert.ok(CHECKPOINT_PAGE(res.json), ajv.errorsText(CHECKPOINT_PAGE.errors));
      seen.push(...res.json.clients.map((c) => c.client_id));
      if (!res.json.next) break;
      next = res.json.next;
    }
    assert.deepEqual(seen, viewOf(emu).publicClients().map((c) => c.client_id));
  });

  test('clients: bad query parameters are a 400; q (Lucene search) is not emulated and says so', async () => {
    for (const q of ['per_page=101', 'page=-1', 'include_totals=yes', 'take=0', 'is_global=1', 'nope=1', 'q=client_grant.allow_any_organization:true']) {
      const res = await get(origin, `/api/v2/clients?${q}`, tok);
      assert.equal(res.status, 400, q);
      assertConforms(res, '/clients');
    }
    assert.match((await get(origin, '/api/v2/clients?q=x', tok)).json.message, /not emulated/);
  });

  test('scopes: read:actions for triggers and modules; any of read:clients, read:client_summary, … for clients', async () => {
    const rolesOnly = await token(origin, ROLES_ONLY);
    for (const [path, tpl] of [['/api/v2/actions/triggers', '/actions/triggers'], ['/api/v2/actions/modules', '/actions/modules'], ['/api/v2/clients', '/clients']]) {
      const none = await get(origin, path);
      assert.equal(none.status, 401, path);
      assertConforms(none, tpl);
      const forbidden = await get(origin, path, rolesOnly);
      assert.equal(forbidden.status, 403, path);
      assertConforms(forbidden, tpl);
      assert.equal(forbidden.json.errorCode, 'insufficient_scope');
    }
    const summary = await token(origin, SUMMARY);
    assert.equal((await get(origin, '/api/v2/clients', summary)).status, 200);
    assert.equal((await get(origin, '/api/v2/actions/triggers', summary)).status, 403);
  });
});
