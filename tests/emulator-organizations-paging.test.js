'use strict';
// Deep paging of GET /organizations/{id}/members on a generated tenant (seed.js): offset paging
// stops at 1,000 members (400 invalid_paging beyond, as Auth0 documents), checkpoint paging
// (from/take, `next`) walks every member once even while members join and leave, and members
// added over HTTP 10 per request (the cap) are all listed. Replies checked against the spec.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { call, seeded, assertConforms, assertApiError, enc } = require('./bulk-http.js');
const { ORG_SCOPES, assertMembersPage, assertOrganizationsPage } = require('./organizations-http.js');
const { seedFixture } = require('../pkg-scripts/emulator/seed.js');
const { organizationsOf } = require('../pkg-scripts/emulator/organizations-store.js');

const USERS = 1500;
const BIG = 1200;

describe('GET /organizations/{id}/members beyond 1,000 members', () => {
  let t;
  let big;
  let small;
  let ids;
  before(async () => {
    const f = seedFixture();
    f.clients[0].scopes = [...new Set([...f.clients[0].scopes, ...ORG_SCOPES])];
    t = await seeded(USERS, {}, f);
    const store = organizationsOf(t.emu);
    ids = Array.from({ length: USERS }, (_, i) => t.emu.users.gen.idOf(i));
    // Joined in an order other than the users' own, so the listing's order is the join order.
    big = store.add({ name: 'bigco', members: ids.slice(0, BIG).reverse() });
    small = store.add({ name: 'smallco', members: ids.slice(0, 3) });
  });
  after(() => t.stop());
  const get = (org, q = '') => call(t.origin, 'GET', `/api/v2/organizations/${org.id}/members${q}`, { token: t.token });

  test('offset paging: pages to the 1,000th member, a page reaching beyond is a 400 invalid_paging', async () => {
    const expected = ids.slice(0, BIG).reverse();
    const p9 = await get(big, '?per_page=100&page=9');
    assertMembersPage(p9);
    assert.deepEqual(p9.json.map((m) => m.user_id), expected.slice(900, 1000));
    for (const m of p9.json) assert.deepEqual(Object.keys(m).sort(), ['email', 'name', 'picture', 'user_id']);
    const totals = await get(big, '?per_page=5&page=3&include_totals=true');
    assertMembersPage(totals);
    assert.deepEqual([totals.json.start, totals.json.limit, totals.json.total], [15, 5, BIG]);
    assert.equal((await get(big)).json.length, 50, 'per_page defaults to 50');
    for (const q of ['?per_page=100&page=10', '?per_page=50&page=20', '?page=20', '?per_page=3&page=333']) {
      const res = await get(big, q);
      assertMembersPage(res);
      assertApiError(res, 400, 'invalid_paging');
      assert.match(res.json.message, /checkpoint/);
    }
    assert.equal((await get(big, '?per_page=3&page=332')).status, 200, 'members 996..998 are within the first 1,000');
  });

  test('checkpoint paging walks all members once, in join order, `next` until the last page', async () => {
    const expected = ids.slice(0, BIG).reverse();
    const seen = [];
    let from;
    let pages = 0;
    for (;;) {
      const res = await get(big, `?take=100${from ? `&from=${enc(from)}` : ''}`);
      assertMembersPage(res);
      assert.deepEqual(Object.keys(res.json).filter((k) => k !== 'next'), ['members']);
      seen.push(...res.json.members.map((m) => m.user_id));
      pages++;
      if (!res.json.next) break;
      from = res.json.next;
    }
    assert.deepEqual(seen, expected);
    assert.equal(pages, BIG / 100);
    assert.equal((await get(big, '?take=7&fields=user_id')).json.members.length, 7);
    assert.deepEqual(Object.keys((await get(big, '?take=1&fields=user_id')).json.members[0]), ['user_id']);
  });

  test('checkpoint paging while members join and leave: no duplicates, no gaps', async () => {
    const before = organizationsOf(t.emu).memberIds(big.id);
    const leaverAhead = before[900];
    const leaverBehind = before[10];
    const joiner = ids[USERS - 1];
    const first = await get(big, '?take=100');
    const seen = first.json.members.map((m) => m.user_id);
    let from = first.json.next;
    let changed = false;
    while (from) {
      if (!changed && seen.length >= 300) {
        changed = true;
        const del = await call(t.origin, 'DELETE', `/api/v2/organizations/${big.id}/members`, { token: t.token, body: { members: [leaverAhead, leaverBehind] } });
        assertConforms(del, '/organizations/{id}/members', 'delete');
        const add = await call(t.origin, 'POST', `/api/v2/organizations/${big.id}/members`, { token: t.token, body: { members: [joiner] } });
        assertConforms(add, '/organizations/{id}/members', 'post');
        assert.equal(add.status, 204);
      }
      const res = await get(big, `?take=100&from=${enc(from)}`);
      assert.equal(res.status, 200, res.text);
      seen.push(...res.json.members.map((m) => m.user_id));
      from = res.json.next;
    }
    assert.ok(changed);
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    assert.deepEqual(seen, [...before.filter((id) => id !== leaverAhead), joiner], 'no gaps; the one who left behind the walk was listed before leaving');
    // Put it back as it was for the other tests (rejoined members go to the end).
    await call(t.origin, 'DELETE', `/api/v2/organizations/${big.id}/members`, { token: t.token, body: { members: [joiner] } });
  });

  test('bad paging: out of range, both kinds at once, a forged id, another organization\'s id', async () => {
    const next = (await get(big, '?take=2')).json.next;
    const cases = ['?take=0', '?take=101', '?per_page=0', '?per_page=101', '?page=-1', '?page=1001', '?page=1&take=5', '?include_totals=true&take=5',
      `?per_page=5&from=${enc(next)}`, '?from=abc', '?from=', `?from=${enc(next.slice(0, -2) + (next.endsWith('A') ? 'BB' : 'AA'))}`, '?sort=user_id:1'];
    for (const q of cases) {
      const res = await get(big, q);
      assertMembersPage(res);
      assertApiError(res, 400);
    }
    assertApiError(await get(small, `?from=${enc(next)}`), 400, 'invalid_query_string');
    const orgsNext = (await call(t.origin, 'GET', '/api/v2/organizations?take=1', { token: t.token })).json.next;
    assertApiError(await get(big, `?from=${enc(orgsNext)}`), 400, 'invalid_query_string');
  });

  test('members added over HTTP 10 per request are all listed; GET /organizations walks by checkpoint too', async () => {
    const res = await call(t.origin, 'POST', '/api/v2/organizations', { token: t.token, body: { name: 'x' } });
    assert.equal(res.status, 404, 'creating organizations is not emulated');
    const org = organizationsOf(t.emu).add({ name: 'batchco' });
    const joining = ids.slice(BIG, BIG + 250);
    for (let i = 0; i < joining.length; i += 10) {
      const r = await call(t.origin, 'POST', `/api/v2/organizations/${org.id}/members`, { token: t.token, body: { members: joining.slice(i, i + 10) } });
      assert.equal(r.status, 204, r.text);
    }
    const all = [];
    let from;
    do {
      const page = await get(org, `?take=100${from ? `&from=${enc(from)}` : ''}`);
      assertMembersPage(page);
      all.push(...page.json.members.map((m) => m.user_id));
      from = page.json.next;
    } while (from);
    assert.deepEqual(all, joining);
    const names = [];
    from = undefined;
    do {
      const page = await call(t.origin, 'GET', `/api/v2/organizations?take=1${from ? `&from=${enc(from)}` : ''}`, { token: t.token });
      assertOrganizationsPage(page);
      names.push(...page.json.organizations.map((o) => o.name));
      from = page.json.next;
    } while (from);
    assert.deepEqual(names, ['acme', 'globex', 'bigco', 'smallco', 'batchco'], 'seedFixture() has acme and globex');
    const mine = await call(t.origin, 'GET', `/api/v2/users/${enc(ids[0])}/organizations`, { token: t.token });
    assertConforms(mine, '/users/{id}/organizations', 'get');
    assert.deepEqual(mine.json.map((o) => o.name), ['bigco', 'smallco']);
  });
});
