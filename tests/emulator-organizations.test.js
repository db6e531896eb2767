'use strict';
// The emulator's organization endpoints (pkg-scripts/emulator/organizations-api.js) over real
// HTTP on the demo fixture (acme, globex): lists, by id and name, members add/remove (at most
// 10 per request, idempotent re-add), member roles (at most 50: a 409), a user's
// organizations, the scope each endpoint needs, its rate bucket, and every reply checked
// against the OpenAPI subset. Deep paging (1,000 cap, checkpoint): emulator-organizations-paging.test.js.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { call, getToken, assertConforms, assertApiError, enc } = require('./bulk-http.js');
const { ORG_SCOPES, assertMembersPage, assertOrganizationsPage, assertUndocumentedError } = require('./organizations-http.js');
const { TenantEmulator } = require('../pkg-scripts/emulator/server.js');
const { organizationsOf } = require('../pkg-scripts/emulator/organizations-store.js');
const FIXTURE = require('../pkg-scripts/emulator/fixture.json');

const ACME = 'org_acme000000000001';
const GLOBEX = 'org_globex0000000001';
const ADA = 'google-oauth2|101234567890123456789';
const GRACE = 'google-oauth2|109876543210987654321';
const DENNIS = 'auth0|6543a1b2c3d4e5f607182930'; // the fixture's globex member (Employee)
const ADMIN = 'rol_admin00000001';
const EMPLOYEE = 'rol_employee000001';
const PREMIUM = 'rol_premium0000001';

/** A started emulator on the demo fixture, its client holding `scopes`, and a token. */
async function start(scopes = ORG_SCOPES, opts = {}, edit = () => {}) {
  const f = JSON.parse(JSON.stringify(FIXTURE));
  f.clients[0].scopes = [...scopes];
  edit(f);
  const emu = new TenantEmulator(f, opts);
  const origin = await emu.start();
  const token = await getToken(origin, f.clients[0]);
  const api = (method, path, body) => call(origin, method, `/api/v2${path}`, { token, body });
  return { emu, origin, token, api, fixture: f, stop: () => emu.stop() };
}

const membersPath = (org) => `/organizations/${org}/members`;
const rolesPath = (org, user) => `/organizations/${org}/members/${enc(user)}/roles`;

describe('organizations: lists, by id, by name', () => {
  let t;
  before(async () => { t = await start(); });
  after(() => t.stop());

  test('GET /organizations: a bare array, include_totals, checkpoint', async () => {
    const bare = await t.api('GET', '/organizations');
    assertConforms(bare, '/organizations', 'get');
    assert.deepEqual(bare.json, [
      { id: ACME, name: 'acme', display_name: 'Acme' },
      { id: GLOBEX, name: 'globex', display_name: 'Globex Corporation' },
    ]);
    const totals = await t.api('GET', '/organizations?per_page=1&page=1&include_totals=true');
    assertConforms(totals, '/organizations', 'get');
    assert.deepEqual(totals.json, { organizations: [bare.json[1]], start: 1, limit: 1, total: 2 });
    const first = await t.api('GET', '/organizations?take=1');
    assertConforms(first, '/organizations', 'get');
    assert.deepEqual(first.json.organizations, [bare.json[0]]);
    const last = await t.api('GET', `/organizations?take=1&from=${enc(first.json.next)}`);
    assertOrganizationsPage(last);
    assert.deepEqual(last.json, { organizations: [bare.json[1]] }, 'no next on the last page');
    for (const q of ['?per_page=0', '?per_page=101', '?page=1001', '?take=0', '?take=101', '?page=0&take=1', '?from=forged', '?sort=name:1', '?q=x']) {
      const res = await t.api('GET', `/organizations${q}`);
      assertConforms(res, '/organizations', 'get');
      assertApiError(res, 400);
    }
  });

  test('GET /organizations/{id} and /organizations/name/{name}: the organization, else 404 (400 for a non-name)', async () => {
    const byId = await t.api('GET', `/organizations/${GLOBEX}`);
    assert.equal(byId.status, 200);
    assert.deepEqual(byId.json, { id: GLOBEX, name: 'globex', display_name: 'Globex Corporation' });
    const byName = await t.api('GET', '/organizations/name/acme');
    assertConforms(byName, '/organizations/name/{name}', 'get');
    assert.equal(byName.json.id, ACME);
    const unknown = await t.api('GET', '/organizations/name/initech');
    assertConforms(unknown, '/organizations/name/{name}', 'get');
    assertApiError(unknown, 404, 'inexistent_organization');
    assertApiError(await t.api('GET', '/organizations/org_nope000000000001'), 404, 'inexistent_organization');
    for (const bad of ['Acme', 'a'.repeat(51), 'ac%20me']) {
      const res = await t.api('GET', `/organizations/name/${bad}`);
      assertConforms(res, '/organizations/name/{name}', 'get');
      assertApiError(res, 400);
    }
  });

  test('a test adds an organization (its id made from the name unless given) and reads memberships back', async () => {
    const store = organizationsOf(t.emu);
    const o = store.add({ name: 'initech', display_name: 'Initech', metadata: { tier: 'gold' }, members: [{ user_id: GRACE, roles: [PREMIUM] }] });
    assert.match(o.id, /^org_[0-9a-f]{16}$/);
    const res = await t.api('GET', '/organizations/name/initech');
    assertConforms(res, '/organizations/name/{name}', 'get');
    assert.deepEqual(res.json, { id: o.id, name: 'initech', display_name: 'Initech', metadata: { tier: 'gold' } });
    assert.deepEqual(store.memberIds(o.id), [GRACE]);
    assert.deepEqual(store.memberRoles(o.id, GRACE), [PREMIUM]);
    assert.deepEqual(store.organizationIdsOf(GRACE), [o.id]);
    assert.throws(() => store.add({ name: 'initech' }), /exists already/);
    assert.throws(() => store.add({ name: 'Bad Name' }), /lower-case/);
    assert.throws(() => store.add({ name: 'x', id: 'org_short' }), /16 letters/);
    assert.throws(() => store.addMember(o.id, 'auth0|nobody'), /no user/);
    assert.throws(() => store.addMember(o.id, ADA, ['rol_nope']), /do not exist/);
  });
});

describe('organization members', () => {
  let t;
  before(async () => { t = await start(); });
  after(() => t.stop());
  const members = async (org) => (await t.api('GET', membersPath(org))).json.map((m) => m.user_id);

  test('GET lists OrganizationMember views; fields=roles adds the organization roles', async () => {
    const res = await t.api('GET', membersPath(GLOBEX));
    assertConforms(res, '/organizations/{id}/members', 'get');
    assert.deepEqual(res.json, [pick(t, DENNIS)]);
    assert.ok(res.json[0].email, 'the fixture user has an email');
    const withRoles = await t.api('GET', `${membersPath(GLOBEX)}?fields=user_id,roles`);
    assertConforms(withRoles, '/organizations/{id}/members', 'get');
    assert.deepEqual(withRoles.json, [{ user_id: DENNIS, roles: [{ id: EMPLOYEE, name: 'Employee' }] }]);
    const totals = await t.api('GET', `${membersPath(GLOBEX)}?include_totals=true&fields=email&include_fields=false`);
    assertMembersPage(totals);
    assert.deepEqual(Object.keys(totals.json).sort(), ['limit', 'members', 'start', 'total']);
    assert.ok(!('email' in totals.json.members[0]) && totals.json.members[0].user_id === DENNIS);
    assertApiError(await t.api('GET', `${membersPath(GLOBEX)}?fields=password`), 400);
    const missing = await t.api('GET', membersPath('org_nope000000000001'));
    assertConforms(missing, '/organizations/{id}/members', 'get');
    assertApiError(missing, 404, 'inexistent_organization');
  });

  test('POST adds (204, empty body); re-adding a member is a 204 no-op; at most 10 per request', async () => {
    const body = { members: [ADA, GRACE] };
    const res = await t.api('POST', membersPath(ACME), body);
    assertConforms(res, '/organizations/{id}/members', 'post');
    assert.equal(res.status, 204);
    assert.deepEqual(await members(ACME), [ADA, GRACE]);
    const again = await t.api('POST', membersPath(ACME), { members: [GRACE, ADA, GRACE] });
    assertConforms(again, '/organizations/{id}/members', 'post');
    assert.equal(again.status, 204);
    assert.deepEqual(await members(ACME), [ADA, GRACE], 'no duplicate, order kept');
    const eleven = Array.from({ length: 11 }, () => ADA);
    for (const bad of [{ members: eleven }, { members: [] }, { members: [''] }, { members: ['x'.repeat(256)] }, { members: ADA }, { users: [ADA] }, [ADA]]) {
      const r = await t.api('POST', membersPath(ACME), bad);
      assertConforms(r, '/organizations/{id}/members', 'post');
      assertApiError(r, 400, 'invalid_body');
    }
    assert.equal((await t.api('POST', membersPath(ACME), { members: eleven.slice(1) })).status, 204, '10 is allowed');
  });

  test('POST with a user who does not exist adds nobody (400); an unknown organization is a 404', async () => {
    const r = await t.api('POST', membersPath(GLOBEX), { members: [ADA, 'auth0|nobody'] });
    assertConforms(r, '/organizations/{id}/members', 'post');
    assertApiError(r, 400, 'inexistent_user');
    assert.ok(!(await members(GLOBEX)).includes(ADA), 'all or nothing');
    assertUndocumentedError(await t.api('POST', membersPath('org_nope000000000001'), { members: [ADA] }), '/organizations/{id}/members', 'post', 404);
    assertUndocumentedError(await t.api('DELETE', membersPath('org_nope000000000001'), { members: [ADA] }), '/organizations/{id}/members', 'delete', 404);
  });

  test('DELETE removes (204) with the membership\'s organization roles; non-members are a no-op; at most 10', async () => {
    const store = organizationsOf(t.emu);
    store.addMember(GLOBEX, GRACE, [ADMIN]);
    const res = await t.api('DELETE', membersPath(GLOBEX), { members: [GRACE, ADA] });
    assertConforms(res, '/organizations/{id}/members', 'delete');
    assert.equal(res.status, 204);
    assert.deepEqual(await members(GLOBEX), [DENNIS]);
    assert.equal(store.memberRoles(GLOBEX, GRACE), null);
    await t.api('POST', membersPath(GLOBEX), { members: [GRACE] });
    assert.deepEqual(store.memberRoles(GLOBEX, GRACE), [], 'joining again starts without roles');
    const r = await t.api('DELETE', membersPath(GLOBEX), { members: Array.from({ length: 11 }, () => GRACE) });
    assertConforms(r, '/organizations/{id}/members', 'delete');
    assertApiError(r, 400, 'invalid_body');
  });

  test('a deleted user is no member of anything', async () => {
    const store = organizationsOf(t.emu);
    t.emu.addUser({ user_id: 'auth0|leaver', email: 'leaver@acme.com', connection: 'Username-Password-Authentication' });
    assert.equal((await t.api('POST', membersPath(ACME), { members: ['auth0|leaver'] })).status, 204);
    assert.ok((await members(ACME)).includes('auth0|leaver'));
    assert.ok(t.emu.deleteUser('auth0|leaver'));
    assert.ok(!(await members(ACME)).includes('auth0|leaver'));
    assert.deepEqual(store.organizationIdsOf('auth0|leaver'), []);
  });
});

/** The profile fields of a fixture user as members show them (only those it has). */
function pick(t, id) {
  const u = t.emu.users.peek(id);
  const out = { user_id: id };
  for (const k of ['email', 'picture', 'name']) if (u[k] !== undefined) out[k] = u[k];
  return out;
}

describe('organization member roles', () => {
  let t;
  const extra = Array.from({ length: 55 }, (_, i) => ({ id: `rol_org${String(i).padStart(11, '0')}`, name: `Org role ${i}`, description: '' }));
  before(async () => { t = await start(ORG_SCOPES, {}, (f) => f.roles.push(...extra)); });
  after(() => t.stop());

  test('POST assigns (204), GET lists Role views, DELETE removes; holding a role already is a no-op', async () => {
    assert.equal((await t.api('POST', membersPath(ACME), { members: [ADA] })).status, 204);
    const res = await t.api('POST', rolesPath(ACME, ADA), { roles: [ADMIN, PREMIUM] });
    assertConforms(res, '/organizations/{id}/members/{user_id}/roles', 'post');
    assert.equal(res.status, 204);
    assert.equal((await t.api('POST', rolesPath(ACME, ADA), { roles: [ADMIN] })).status, 204);
    const list = await t.api('GET', rolesPath(ACME, ADA));
    assertConforms(list, '/organizations/{id}/members/{user_id}/roles', 'get');
    assert.deepEqual(list.json.map((r) => r.id), [ADMIN, PREMIUM]);
    const totals = await t.api('GET', `${rolesPath(ACME, ADA)}?include_totals=true&per_page=1&page=1`);
    assertConforms(totals, '/organizations/{id}/members/{user_id}/roles', 'get');
    assert.deepEqual({ ...totals.json, roles: totals.json.roles.map((r) => r.id) }, { roles: [PREMIUM], start: 1, limit: 1, total: 2 });
    const del = await t.api('DELETE', rolesPath(ACME, ADA), { roles: [ADMIN, EMPLOYEE] });
    assertConforms(del, '/organizations/{id}/members/{user_id}/roles', 'delete');
    assert.equal(del.status, 204);
    assert.deepEqual(organizationsOf(t.emu).memberRoles(ACME, ADA), [PREMIUM]);
    assert.deepEqual(t.emu.users.get(ADA).roles, [], 'organization roles are not the user\'s tenant roles');
  });

  test('a non-member: GET 404, writes 400; unknown roles and bad bodies 400; unknown organization 404', async () => {
    const get = await t.api('GET', rolesPath(ACME, GRACE));
    assertConforms(get, '/organizations/{id}/members/{user_id}/roles', 'get');
    assertApiError(get, 404);
    for (const m of ['POST', 'DELETE']) {
      const r = await t.api(m, rolesPath(ACME, GRACE), { roles: [ADMIN] });
      assertConforms(r, '/organizations/{id}/members/{user_id}/roles', m);
      assertApiError(r, 400, 'inexistent_organization_member');
      for (const bad of [{ roles: ['rol_nope'] }, { roles: [] }, { roles: ADMIN }, { roles: [ADMIN], extra: 1 }]) {
        const b = await t.api(m, rolesPath(ACME, ADA), bad);
        assertConforms(b, '/organizations/{id}/members/{user_id}/roles', m);
        assertApiError(b, 400);
      }
      assertUndocumentedError(await t.api(m, rolesPath('org_nope000000000001', ADA), { roles: [ADMIN] }), '/organizations/{id}/members/{user_id}/roles', m, 404);
    }
    assert.deepEqual(organizationsOf(t.emu).memberRoles(ACME, ADA), [PREMIUM], 'nothing changed');
  });

  test('at most 50 organization roles per member: a request past it is a 409 and assigns none', async () => {
    assert.equal((await t.api('POST', membersPath(GLOBEX), { members: [GRACE] })).status, 204);
    const ids = extra.map((r) => r.id);
    assert.equal((await t.api('POST', rolesPath(GLOBEX, GRACE), { roles: ids.slice(0, 48) })).status, 204);
    const over = await t.api('POST', rolesPath(GLOBEX, GRACE), { roles: ids.slice(45, 51) }); // 3 held + 3 new = 51
    assertConforms(over, '/organizations/{id}/members/{user_id}/roles', 'post');
    assertApiError(over, 409);
    assert.equal(organizationsOf(t.emu).memberRoles(GLOBEX, GRACE).length, 48, 'none assigned');
    assert.equal((await t.api('POST', rolesPath(GLOBEX, GRACE), { roles: ids.slice(40, 50) })).status, 204, 'exactly 50');
    assert.equal((await t.api('POST', rolesPath(GLOBEX, GRACE), { roles: [ids[0]] })).status, 204, 'a held role at the cap');
    assertApiError(await t.api('POST', rolesPath(GLOBEX, GRACE), { roles: [ids[50]] }), 409);
    const page = await t.api('GET', `${rolesPath(GLOBEX, GRACE)}?per_page=100&include_totals=true`);
    assert.equal(page.json.total, 50);
  });
});

describe('GET /users/{id}/organizations', () => {
  test('the user\'s organizations (offset paging), [] for none, 404 for no user', async () => {
    const t = await start();
    try {
      organizationsOf(t.emu).addMember(ACME, DENNIS);
      const res = await t.api('GET', `/users/${enc(DENNIS)}/organizations`);
      assertConforms(res, '/users/{id}/organizations', 'get');
      assert.deepEqual(res.json.map((o) => o.name), ['acme', 'globex']);
      const totals = await t.api('GET', `/users/${enc(DENNIS)}/organizations?include_totals=true&per_page=1`);
      assertConforms(totals, '/users/{id}/organizations', 'get');
      assert.deepEqual({ ...totals.json, organizations: totals.json.organizations.map((o) => o.id) }, { organizations: [ACME], start: 0, limit: 1, total: 2 });
      const none = await t.api('GET', `/users/${enc(ADA)}/organizations`);
      assertConforms(none, '/users/{id}/organizations', 'get');
      assert.deepEqual(none.json, []);
      const missing = await t.api('GET', `/users/${enc('auth0|nobody')}/organizations`);
      assertConforms(missing, '/users/{id}/organizations', 'get');
      assertApiError(missing, 404, 'inexistent_user');
      assertApiError(await t.api('GET', `/users/${enc(ADA)}/organizations?take=1`), 400, 'invalid_query_string');
    } finally {
      await t.stop();
    }
  });
});

describe('scopes and rate buckets', () => {
  // [method, path, body, scope, spec template, essentials burst]
  const ENDPOINTS = [
    ['GET', '/organizations', undefined, 'read:organizations', '/organizations', 5],
    ['GET', `/organizations/${ACME}`, undefined, 'read:organizations', null, 5],
    ['GET', '/organizations/name/acme', undefined, 'read:organizations', '/organizations/name/{name}', 10],
    ['GET', membersPath(GLOBEX), undefined, 'read:organization_members', '/organizations/{id}/members', 40],
    ['POST', membersPath(ACME), { members: [ADA] }, 'create:organization_members', '/organizations/{id}/members', 20],
    ['DELETE', membersPath(ACME), { members: [GRACE] }, 'delete:organization_members', '/organizations/{id}/members', 20],
    ['GET', rolesPath(GLOBEX, DENNIS), undefined, 'read:organization_member_roles', '/organizations/{id}/members/{user_id}/roles', 20],
    ['POST', rolesPath(GLOBEX, DENNIS), { roles: [ADMIN] }, 'create:organization_member_roles', '/organizations/{id}/members/{user_id}/roles', 20],
    ['DELETE', rolesPath(GLOBEX, DENNIS), { roles: [ADMIN] }, 'delete:organization_member_roles', '/organizations/{id}/members/{user_id}/roles', 20],
    ['GET', `/users/${enc(DENNIS)}/organizations`, undefined, 'read:organizations', '/users/{id}/organizations', 10],
  ];

  test('each endpoint: 403 insufficient_scope without its scope (every other one held), served with it alone, 401 without a token', async () => {
    for (const [method, path, body, scope, template] of ENDPOINTS) {
      const without = await start(ORG_SCOPES.filter((s) => s !== scope));
      const only = await start([scope]);
      try {
        const denied = await without.api(method, path, body);
        if (template) assertConforms(denied, template, method);
        assertApiError(denied, 403, 'insufficient_scope');
        const served = await only.api(method, path, body);
        if (template) assertConforms(served, template, method);
        assert.ok(served.status < 300, `${method} ${path} with ${scope}: ${served.status} ${served.text}`);
        const anon = await call(only.origin, method, `/api/v2${path}`, { body });
        assertApiError(anon, 401);
      } finally {
        await without.stop();
        await only.stop();
      }
    }
    const t = await start(['read:organization_members']);
    try {
      const res = await t.api('GET', `${membersPath(GLOBEX)}?fields=roles`);
      assertConforms(res, '/organizations/{id}/members', 'get');
      assertApiError(res, 403, 'insufficient_scope');
    } finally {
      await t.stop();
    }
  });

  test('essentials: each endpoint draws from its bucket (x-ratelimit-limit), and a burst past it is a 429', async () => {
    const frozen = Date.now();
    const t = await start(ORG_SCOPES, { rateProfile: 'essentials', rateClock: () => frozen });
    try {
      for (const [method, path, body, , , limit] of ENDPOINTS) {
        const res = await t.api(method, path, body);
        assert.equal(Number(res.headers.get('x-ratelimit-limit')), limit, `${method} ${path}`);
      }
      const replies = await Promise.all(Array.from({ length: 12 }, () => t.api('GET', '/organizations/name/acme')));
      assert.equal(replies.filter((r) => r.status === 429).length, 3, 'burst 10, one spent above'); // 10 - 1 = 9 served
      for (const r of replies) assertConforms(r, '/organizations/name/{name}', 'get');
    } finally {
      await t.stop();
    }
  });
});
