'use strict';
// The emulator's bulk endpoints over real HTTP on a generated tenant (seed.js): GET /users,
// GET|POST /roles/{id}/users (offset paging capped at 1,000, checkpoint paging that walks
// everything once even while users change), deleted users, and every reply (and request)
// checked against the OpenAPI subset. Rate buckets: emulator-bulk-rates.test.js.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const SECRET = require('node:crypto').randomBytes(24).toString('base64url');
const { call, seeded, check, assertValidRequest, requestConforms, assertConforms, assertApiError, enc } = require('./bulk-http.js');
const { operation, schemaAt, ptr } = require('./openapi.js');

const PREMIUM = 'rol_premium0000001';
const ADMIN = 'rol_admin00000001';
const TRIAL = 'rol_trialUser00001';

/** The ids of the generated users who hold `roleId` as generated (the oracle: the generator). */
function holdersAsGenerated(emu, roleId) {
  const gen = emu.users.gen;
  const out = [];
  for (let i = 0; i < gen.count; i++) if (gen.roleIdsOf(i).includes(roleId)) out.push(gen.idOf(i));
  return out;
}

describe('GET /api/v2/users', () => {
  let t;
  before(async () => { t = await seeded(1500); });
  after(() => t.stop());
  const get = (q) => call(t.origin, 'GET', `/api/v2/users${q}`, { token: t.token });

  test('the spec declares the bulk operations the emulator serves', () => {
    for (const [p, m] of [['/users', 'get'], ['/roles/{id}/users', 'get'], ['/roles/{id}/users', 'post'], ['/jobs/users-exports', 'post'], ['/jobs/{id}', 'get']]) operation(p, m);
  });

  test('a bare array by default (50 users), zero-based pages in a stable order; include_totals wraps it', async () => {
    const first = await get('');
    assertConforms(first, '/users', 'get');
    assert.ok(Array.isArray(first.json));
    assert.equal(first.json.length, 50);
    const p0 = await get('?page=0&per_page=100');
    const p1 = await get('?page=1&per_page=100');
    assertConforms(p1, '/users', 'get');
    assert.deepEqual(first.json.map((u) => u.user_id), p0.json.slice(0, 50).map((u) => u.user_id), 'page 0 is the first page');
    const ids = [...p0.json, ...p1.json].map((u) => u.user_id);
    assert.equal(new Set(ids).size, 200);
    assert.deepEqual(ids, Array.from({ length: 200 }, (_, i) => t.emu.users.gen.idOf(i)), 'the store order');
    const totals = await get('?page=2&per_page=10&include_totals=true');
    assertConforms(totals, '/users', 'get');
    assert.deepEqual(Object.keys(totals.json).sort(), ['length', 'limit', 'start', 'total', 'users']);
    assert.deepEqual({ ...totals.json, users: undefined }, { start: 20, limit: 10, length: 10, total: 1500, users: undefined });
    assert.equal(totals.json.users[0].user_id, ids[20]);
    const none = await get('?per_page=0&include_totals=true');
    assertConforms(none, '/users', 'get');
    assert.deepEqual(none.json.users, []);
    assert.equal(none.json.total, 1500);
  });

  test('a user as listed is the user as GET /users/{id} shows it, plus its profile fields', async () => {
    const [u] = (await get('?per_page=1&page=7')).json;
    const one = await call(t.origin, 'GET', `/api/v2/users/${enc(u.user_id)}`, { token: t.token });
    assertConforms(one, '/users/{id}', 'get');
    for (const [k, v] of Object.entries(one.json)) assert.deepEqual(u[k], v, k);
    assert.equal(typeof u.picture, 'string');
    const picked = await get('?per_page=3&fields=user_id,email&include_fields=true');
    assertConforms(picked, '/users', 'get');
    for (const x of picked.json) assert.deepEqual(Object.keys(x).sort(), ['email', 'user_id']);
    const dropped = await get('?per_page=3&fields=identities,app_metadata&include_fields=false');
    for (const x of dropped.json) assert.ok(!('identities' in x) && !('app_metadata' in x) && 'user_id' in x);
  });

  test('only the first 1,000 records: a page reaching beyond is a 400 (Auth0 message)', async () => {
    assert.equal((await get('?page=9&per_page=100')).json.length, 100);
    assert.equal((await get('?page=19&per_page=50')).status, 200);
    for (const q of ['?page=10&per_page=100', '?page=20&per_page=50', '?page=1000', '?page=33&per_page=30']) {
      const res = await get(q);
      assertConforms(res, '/users', 'get');
      assertApiError(res, 400, 'invalid_paging');
      assert.match(res.json.message, /only page through the first 1000 records/);
    }
  });

  test('bad or unsupported query parameters are 400s, not ignored', async () => {
    for (const q of ['?per_page=101', '?per_page=-1', '?page=-1', '?page=1.5', '?page=', '?page=0x10', '?include_totals=yes',
      '?q=email:%22a%40b.c%22', '?sort=email:1', '?page=1&page=2', '?search_engine=v2']) {
      const res = await get(q);
      assertConforms(res, '/users', 'get');
      assertApiError(res, 400, 'invalid_query_string');
    }
  });

  test('401 without a token, 403 without read:users', async () => {
    const res = await call(t.origin, 'GET', '/api/v2/users');
    assertConforms(res, '/users', 'get');
    assertApiError(res, 401);
    t.emu.clients.push({ client_id: 'roles-reader', client_secret: SECRET, scopes: ['read:roles'] });
    const tok = await call(t.origin, 'POST', '/oauth/token', {
      body: { grant_type: 'client_credentials', client_id: 'roles-reader', client_secret: SECRET, audience: `${t.origin}/api/v2/` },
    });
    const forbidden = await call(t.origin, 'GET', '/api/v2/users', { token: tok.json.access_token });
    assertConforms(forbidden, '/users', 'get');
    assertApiError(forbidden, 403, 'insufficient_scope');
  });
});

/**
 * A checkpoint page against the spec. The last page, {users} without `next`, matches two
 * branches of the spec's oneOf (the offset shape has only optional keys too), so no reply can
 * pass it: that page is checked against the checkpoint branch itself.
 */
function assertCheckpointPage(res) {
  if (res.json && res.json.next !== undefined) return assertConforms(res, '/roles/{id}/users', 'get');
  assert.equal(res.status, 200, res.text);
  check(schemaAt('components/schemas/ListRoleUsersPaginatedResponseContent'), res.json, 'last checkpoint page');
  assert.equal(schemaAt(ptr('paths', '/roles/{id}/users', 'get', 'responses', '200', 'content', 'application/json', 'schema'))(res.json), false,
    'the oneOf ambiguity this check works around is still in the spec');
}

describe('GET /api/v2/roles/{id}/users', () => {
  let t;
  before(async () => { t = await seeded(8000); });
  after(() => t.stop());
  const get = (role, q = '') => call(t.origin, 'GET', `/api/v2/roles/${role}/users${q}`, { token: t.token });

  test('offset paging: a bare array of RoleUser, include_totals {start, limit, total, users}', async () => {
    const expected = holdersAsGenerated(t.emu, PREMIUM);
    assert.ok(expected.length > 1200, `the seed gives ${expected.length} premium holders (needs > 1,000 for the cap to matter)`);
    const bare = await get(PREMIUM, '?per_page=100&page=2');
    assertConforms(bare, '/roles/{id}/users', 'get');
    assert.deepEqual(bare.json.map((u) => u.user_id), expected.slice(200, 300));
    for (const u of bare.json) assert.deepEqual(Object.keys(u).sort(), ['email', 'name', 'picture', 'user_id']);
    const totals = await get(PREMIUM, '?per_page=5&include_totals=true');
    assertConforms(totals, '/roles/{id}/users', 'get');
    assert.deepEqual(Object.keys(totals.json).sort(), ['limit', 'start', 'total', 'users']);
    assert.deepEqual([totals.json.start, totals.json.limit, totals.json.total], [0, 5, expected.length]);
    assert.equal((await get(PREMIUM)).json.length, 50, 'per_page defaults to 50');
  });

  test('offset paging stops at 1,000 results: a page beyond is a 400', async () => {
    assert.equal((await get(PREMIUM, '?per_page=100&page=9')).json.length, 100);
    for (const q of ['?per_page=100&page=10', '?per_page=50&page=20', '?page=20']) {
      const res = await get(PREMIUM, q);
      assertConforms(res, '/roles/{id}/users', 'get');
      assertApiError(res, 400, 'invalid_paging');
    }
  });

  test('checkpoint paging walks every holder once, in order, with `next` until the last page', async () => {
    const expected = holdersAsGenerated(t.emu, PREMIUM);
    const seen = [];
    let from;
    let pages = 0;
    for (;;) {
      const res = await get(PREMIUM, `?take=100${from ? `&from=${enc(from)}` : ''}`);
      assertCheckpointPage(res);
      assert.deepEqual(Object.keys(res.json).filter((k) => k !== 'next'), ['users']);
      seen.push(...res.json.users.map((u) => u.user_id));
      pages++;
      if (!res.json.next) break;
      assert.equal(typeof res.json.next, 'string');
      from = res.json.next;
    }
    assert.deepEqual(seen, expected);
    assert.equal(pages, Math.ceil(expected.length / 100));
    const dflt = await get(PREMIUM, '?from=');
    assertApiError(dflt, 400);
    assert.equal((await get(PREMIUM, '?take=1')).json.users.length, 1);
    assert.equal((await get(PREMIUM, '?include_totals=true&take=7')).json.users.length, 7);
  });

  test('checkpoint paging while users change: no duplicates, no gaps', async () => {
    const expected = holdersAsGenerated(t.emu, TRIAL);
    assert.ok(expected.length > 300, `${expected.length} trial users`);
    const third = Math.floor(expected.length / 3);
    const lostAhead = expected[2 * third]; // role removed before the walk gets there: not listed
    const deletedAhead = expected[2 * third + 1]; // deleted before the walk gets there: not listed
    const patched = expected.slice(0, 2 * third).filter((_, k) => k % 7 === 0); // metadata changed: still listed once
    const newcomer = t.emu.users.gen.idOf(t.emu.users.gen.count - 1); // assigned ahead: listed
    const first = await get(TRIAL, '?take=50');
    const seen = first.json.users.map((u) => u.user_id);
    let from = first.json.next;
    let changed = false;
    while (from) {
      if (!changed && seen.length >= third) {
        changed = true;
        for (const id of patched) {
          const r = await call(t.origin, 'PATCH', `/api/v2/users/${enc(id)}`, { token: t.token, body: { app_metadata: { plan: 'premium' }, user_metadata: {} } });
          assert.equal(r.status, 200);
        }
        assert.equal((await call(t.origin, 'DELETE', `/api/v2/users/${enc(lostAhead)}/roles`, { token: t.token, body: { roles: [TRIAL] } })).status, 204);
        assert.ok(t.emu.deleteUser(deletedAhead));
        assert.equal((await call(t.origin, 'POST', `/api/v2/roles/${TRIAL}/users`, { token: t.token, body: { users: [newcomer] } })).status, 200);
      }
      const res = await get(TRIAL, `?take=50&from=${enc(from)}`);
      assert.equal(res.status, 200, res.text);
      seen.push(...res.json.users.map((u) => u.user_id));
      from = res.json.next;
    }
    assert.ok(changed);
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    const want = expected.filter((id) => id !== lostAhead && id !== deletedAhead);
    if (!want.includes(newcomer)) want.push(newcomer);
    assert.deepEqual(seen, want, 'no gaps');
  });

  test('bad paging parameters, a forged or foreign `next`, an unknown role', async () => {
    const next = (await get(PREMIUM, '?take=2')).json.next;
    const cases = ['?take=0', '?take=101', '?per_page=0', '?per_page=101', '?page=-1', '?page=1&take=5', `?per_page=5&from=${enc(next)}`,
      '?from=abc', `?from=${enc(next.slice(0, -2) + (next.endsWith('A') ? 'BB' : 'AA'))}`, `?from=${enc(next + '=')}`, '?q=x'];
    for (const q of cases) {
      const res = await get(PREMIUM, q);
      assertConforms(res, '/roles/{id}/users', 'get');
      assertApiError(res, 400);
    }
    const foreign = await get(ADMIN, `?from=${enc(next)}`);
    assertApiError(foreign, 400);
    const missing = await get('rol_nope', '');
    assertConforms(missing, '/roles/{id}/users', 'get');
    assertApiError(missing, 404, 'inexistent_role');
  });
});

describe('POST /api/v2/roles/{id}/users and the per-user endpoints on the same store', () => {
  let t;
  before(async () => { t = await seeded(300); });
  after(() => t.stop());
  const post = (role, body) => call(t.origin, 'POST', `/api/v2/roles/${role}/users`, { token: t.token, body });
  const rolesOf = async (id) => (await call(t.origin, 'GET', `/api/v2/users/${enc(id)}/roles`, { token: t.token })).json.map((r) => r.id);
  const nonAdmins = () => Array.from({ length: 300 }, (_, i) => t.emu.users.gen.idOf(i)).filter((id) => !t.emu.users.peek(id).roles.includes(ADMIN));

  test('assigns (200, empty body), idempotent for roles already held; seen by every reader', async () => {
    const [a, b] = nonAdmins();
    const body = { users: [a, b] };
    assertValidRequest('/roles/{id}/users', 'post', body);
    const res = await post(ADMIN, body);
    assertConforms(res, '/roles/{id}/users', 'post');
    assert.equal(res.status, 200);
    assert.ok((await rolesOf(a)).includes(ADMIN));
    const again = await post(ADMIN, { users: [a, a, b] });
    assert.equal(again.status, 200);
    assert.equal(t.emu.users.get(a).roles.filter((r) => r === ADMIN).length, 1, 'held once');
    const listed = (await call(t.origin, 'GET', `/api/v2/roles/${ADMIN}/users?per_page=100`, { token: t.token })).json.map((u) => u.user_id);
    assert.ok(listed.includes(a) && listed.includes(b));
    // The per-user endpoints act on the same users.
    assert.equal((await call(t.origin, 'DELETE', `/api/v2/users/${enc(a)}/roles`, { token: t.token, body: { roles: [ADMIN] } })).status, 204);
    const after1 = (await call(t.origin, 'GET', `/api/v2/roles/${ADMIN}/users?take=100`, { token: t.token })).json.users.map((u) => u.user_id);
    assert.ok(!after1.includes(a) && after1.includes(b));
    assert.equal((await call(t.origin, 'POST', `/api/v2/users/${enc(a)}/roles`, { token: t.token, body: { roles: [PREMIUM, ADMIN] } })).status, 204);
    assert.ok((await rolesOf(a)).includes(PREMIUM));
    const patched = await call(t.origin, 'PATCH', `/api/v2/users/${enc(a)}`, { token: t.token, body: { app_metadata: { plan: 'gold' } } });
    assert.equal(patched.json.app_metadata.plan, 'gold');
    const [listedA] = (await call(t.origin, 'GET', '/api/v2/users?per_page=100', { token: t.token })).json.filter((u) => u.user_id === a);
    assert.equal(listedA.app_metadata.plan, 'gold', 'GET /users shows the write');
  });

  test('404 when the role or ANY listed user does not exist, and then nothing is assigned', async () => {
    const [, , c, d] = nonAdmins();
    const some = await post(ADMIN, { users: [c, 'auth0|nobody', d] });
    assertConforms(some, '/roles/{id}/users', 'post');
    assertApiError(some, 404, 'inexistent_user');
    assert.ok(!(await rolesOf(c)).includes(ADMIN) && !(await rolesOf(d)).includes(ADMIN), 'nothing assigned');
    const role = await post('rol_nope', { users: [c] });
    assertConforms(role, '/roles/{id}/users', 'post');
    assertApiError(role, 404, 'inexistent_role');
    assert.ok(!(await rolesOf(c)).includes(ADMIN));
  });

  test('a body that is not {"users": [ids]} is a 400 (and the spec refuses it too, where it can)', async () => {
    const [e] = nonAdmins().slice(4);
    for (const body of [{}, { users: e }, { users: [e], roles: [ADMIN] }, { users: [1] }, [e]]) {
      assert.equal(requestConforms('/roles/{id}/users', 'post', body), false, JSON.stringify(body));
      const res = await post(ADMIN, body);
      assertConforms(res, '/roles/{id}/users', 'post');
      assertApiError(res, 400, 'invalid_body');
    }
    for (const body of [{ users: [] }, { users: [''] }, { users: ['x'.repeat(256)] }]) assertApiError(await post(ADMIN, body), 400, 'invalid_body');
    assert.ok(!(await rolesOf(e)).includes(ADMIN));
  });

  test('a deleted user is a 404 everywhere and is in no list', async () => {
    const holders = holdersAsGenerated(t.emu, PREMIUM);
    const gone = holders[1];
    assert.ok(t.emu.deleteUser(gone));
    assert.equal(t.emu.deleteUser(gone), false);
    const p = `/api/v2/users/${enc(gone)}`;
    for (const [m, path, body] of [['GET', p], ['PATCH', p, { app_metadata: { a: 1 } }], ['GET', `${p}/roles`], ['POST', `${p}/roles`, { roles: [ADMIN] }],
      ['DELETE', `${p}/roles`, { roles: [PREMIUM] }], ['GET', `${p}/permissions`]]) {
      const res = await call(t.origin, m, path, { token: t.token, body });
      assertApiError(res, 404, 'inexistent_user');
    }
    assertApiError(await post(ADMIN, { users: [gone] }), 404, 'inexistent_user');
    const all = (await call(t.origin, 'GET', '/api/v2/users?per_page=100&page=0&include_totals=true', { token: t.token })).json;
    assert.equal(all.total, 299);
    const members = (await call(t.origin, 'GET', `/api/v2/roles/${PREMIUM}/users?take=100`, { token: t.token })).json.users.map((u) => u.user_id);
    assert.ok(!members.includes(gone) && members.includes(holders[0]) && members.includes(holders[2]));
    const total = (await call(t.origin, 'GET', `/api/v2/roles/${PREMIUM}/users?include_totals=true`, { token: t.token })).json.total;
    assert.equal(total, t.emu.users.roleCount(PREMIUM));
  });
});
