'use strict';
// Per-endpoint rate buckets (pkg-scripts/emulator/ratelimit.js) over real HTTP: a burst over
// a bucket is a 429 with that bucket's x-ratelimit-* headers; the API-wide bucket is checked
// first; every reply carries the tightest bucket's headers; the speed multiplier; counts per
// route. The legacy single bucket (rateLimit: {burst, perSecond}) is emulator.test.js's.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { call, seeded, assertConforms, assertApiError, enc } = require('./bulk-http.js');
const { RateLimiter, PROFILES, classify } = require('../pkg-scripts/emulator/ratelimit.js');

const limitOf = (res) => Number(res.headers.get('x-ratelimit-limit'));
const remainingOf = (res) => Number(res.headers.get('x-ratelimit-remaining'));

function assertRateHeaders(res) {
  for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) assert.match(res.headers.get(h) || '', /^\d+$/, `${h} on a ${res.status}`);
  const reset = Number(res.headers.get('x-ratelimit-reset'));
  assert.ok(Math.abs(reset - Date.now() / 1000) < 120, `x-ratelimit-reset ${reset} is epoch seconds`);
}

/** Sends n requests at once; their replies. */
const burst = (n, fn) => Promise.all(Array.from({ length: n }, (_, i) => fn(i)));

describe('rate buckets', () => {
  test('endpoint classes follow the plan pages', () => {
    const cases = [
      ['GET', '/api/v2/users', 'read-users'], ['GET', '/api/v2/users/x/roles', 'read-users'], ['GET', '/api/v2/users-by-email', 'read-users'],
      ['PATCH', '/api/v2/users/x', 'write-users'], ['POST', '/api/v2/users/x/roles', 'write-users'], ['DELETE', '/api/v2/users/x/roles', 'write-users'],
      ['GET', '/api/v2/users/x/organizations', 'user-organizations'], ['GET', '/api/v2/organizations', 'read-organizations'],
      ['GET', '/api/v2/organizations/org_1', 'read-organizations'], ['GET', '/api/v2/organizations/name/acme', 'organization-by-name'],
      ['GET', '/api/v2/organizations/org_1/members', 'organization-members-read'], ['POST', '/api/v2/organizations/org_1/members', 'organization-members-write'],
      ['DELETE', '/api/v2/organizations/org_1/members/u/roles', 'organization-member-roles'], ['GET', '/api/v2/roles/r/users', 'other'],
      ['POST', '/api/v2/jobs/users-exports', 'other'], ['POST', '/oauth/token', null], ['GET', '/exports/job_1/t.json.gz', null],
    ];
    for (const [m, p, want] of cases) assert.equal(classify(m, p), want, `${m} ${p}`);
    assert.deepEqual(Object.keys(PROFILES).sort(), ['enterprise', 'enterprise-nonprod', 'essentials', 'free', 'none', 'professional']);
    assert.deepEqual(PROFILES.essentials.endpoints['read-users'], { burst: 40, perSecond: 500 / 60 });
    assert.throws(() => new RateLimiter('platinum'), /unknown rate-limit profile/);
    assert.throws(() => new RateLimiter('free', { speed: 0 }), /positive/);
  });

  test('essentials: 50 reads at once → 10 are 429s with the Read Users bucket\'s headers; writes and the rest have buckets of their own', async () => {
    // A stopped clock: no token comes back while the burst is served, however loaded the machine.
    const frozen = Date.now();
    const t = await seeded(100, { rateProfile: 'essentials', rateClock: () => frozen });
    try {
      const replies = await burst(50, () => call(t.origin, 'GET', '/api/v2/users?per_page=1', { token: t.token }));
      const limited = replies.filter((r) => r.status === 429);
      assert.equal(limited.length, 10, replies.map((r) => r.status).join());
      for (const r of replies) {
        assertConforms(r, '/users', 'get');
        assertRateHeaders(r);
        assert.equal(limitOf(r), 40);
      }
      assertApiError(limited[0], 429, 'too_many_requests');
      assert.equal(remainingOf(limited[0]), 0);
      assert.ok(!limited[0].headers.has('retry-after'), 'only with retryAfter');
      // Write Users (20) is another bucket.
      const id = t.emu.users.gen.idOf(3);
      const w = await call(t.origin, 'PATCH', `/api/v2/users/${enc(id)}`, { token: t.token, body: { user_metadata: { a: 1 } } });
      assert.equal(w.status, 200);
      assert.equal(limitOf(w), 20);
      assert.equal(remainingOf(w), 19);
      // "Everything else" (10) is one bucket for all the rest.
      const others = await burst(11, (i) => call(t.origin, 'GET', i % 2 ? '/api/v2/roles' : '/api/v2/roles/rol_admin00000001/users', { token: t.token }));
      assert.equal(others.filter((r) => r.status === 429).length, 1);
      assert.ok(others.every((r) => limitOf(r) === 10));
      const stats = t.emu.routeStats();
      assert.deepEqual(stats['GET /api/v2/users'], { requests: 50, limited: limited.length });
      assert.equal(stats['POST /oauth/token'].limited, 0);
      assert.equal(stats['GET /api/v2/roles'].limited + stats['GET /api/v2/roles/{id}/users'].limited, 1);
      assert.equal(t.emu.requests.filter((r) => r.limited).length, limited.length + 1, 'requests still marks the limited ones');
    } finally {
      await t.stop();
    }
  });

  test('the API-wide bucket is checked first; the tightest bucket\'s headers on every reply', async () => {
    const profile = { api: { burst: 3, perSecond: 0.01 }, endpoints: { 'read-users': { burst: 5, perSecond: 0.01 }, other: { burst: 2, perSecond: 0.01 } } };
    const t = await seeded(10, { rateProfile: profile, retryAfter: true });
    try {
      const a = await call(t.origin, 'GET', '/api/v2/users', { token: t.token });
      assert.equal(a.status, 200);
      assert.deepEqual([limitOf(a), remainingOf(a)], [3, 2], 'API-wide has 2 left, read-users 4: API-wide is the tightest');
      await call(t.origin, 'GET', '/api/v2/users', { token: t.token });
      await call(t.origin, 'GET', '/api/v2/users', { token: t.token });
      const d = await call(t.origin, 'GET', '/api/v2/users', { token: t.token });
      assertApiError(d, 429, 'too_many_requests');
      assert.equal(limitOf(d), 3, 'refused by the API-wide bucket, whose headers it carries');
      assert.match(d.json.message, /Global limit/);
      assert.match(d.headers.get('retry-after') || '', /^[1-9]\d*$/);
      assert.equal(Math.floor(t.emu.rates.endpoints.get('read-users').tokens), 2, 'the endpoint bucket was not drawn from');
      // /oauth/token draws from no Management API bucket.
      const tok = await call(t.origin, 'POST', '/oauth/token', { body: { grant_type: 'client_credentials', client_id: t.fixture.clients[0].client_id, client_secret: t.fixture.clients[0].client_secret, audience: `${t.origin}/api/v2/` } });
      assert.equal(tok.status, 200);
      assert.ok(!tok.headers.has('x-ratelimit-limit'));
    } finally {
      await t.stop();
    }
    const t2 = await seeded(10, { rateProfile: { api: { burst: 10, perSecond: 0.01 }, endpoints: { other: { burst: 1, perSecond: 0.01 } } } });
    try {
      assert.equal((await call(t2.origin, 'GET', '/api/v2/roles', { token: t2.token })).status, 200);
      const r = await call(t2.origin, 'GET', '/api/v2/roles', { token: t2.token });
      assertApiError(r, 429);
      assert.equal(limitOf(r), 1, 'refused by the endpoint bucket, whose headers it carries');
      assert.match(r.json.message, /other/);
      assert.equal(Math.floor(t2.emu.rates.api.tokens), 8, 'a request the endpoint bucket refused still spent its API-wide token');
    } finally {
      await t2.stop();
    }
  });

  test('speed multiplies the refill rate, not the burst (a fake clock)', () => {
    let now = 1_000_000;
    for (const [speed, tokensAfter1s] of [[1, 8], [50, 40]]) {
      const rl = new RateLimiter('essentials', { speed, now: () => now });
      let ok = 0;
      for (let i = 0; i < 45; i++) if (!rl.take('GET', '/api/v2/users').refused) ok++;
      assert.equal(ok, 40, `speed ${speed}: the burst is 40`);
      now += 1000; // 500/min: 8.3 tokens a second at 1x, 416 (capped at the burst, 40) at 50x
      ok = 0;
      for (let i = 0; i < 45; i++) if (!rl.take('GET', '/api/v2/users').refused) ok++;
      assert.equal(ok, tokensAfter1s, `speed ${speed}`);
      const { refused, headers } = rl.take('GET', '/api/v2/users');
      assert.equal(refused.name, 'read-users');
      assert.equal(headers['x-ratelimit-limit'], '40');
      assert.equal(headers['x-ratelimit-remaining'], '0');
      // Full again after 40 tokens' time: 4.8 s at 1x, 0.096 s at 50x.
      assert.equal(Number(headers['x-ratelimit-reset']), Math.ceil((now + (40 - refused.tokens) / (500 / 60 * speed) * 1000) / 1000));
    }
  });

  test('rateProfile and rateSpeed reach the emulator\'s buckets; setRateProfile swaps them', async () => {
    const t = await seeded(10, { rateProfile: 'essentials', rateSpeed: 50 });
    try {
      const b = t.emu.rates.endpoints.get('read-users');
      assert.deepEqual([t.emu.rates.name, b.burst, b.perSecond], ['essentials', 40, (500 / 60) * 50]);
      t.emu.setRateProfile('enterprise', 2);
      assert.deepEqual([t.emu.rates.api.burst, t.emu.rates.api.perSecond], [50, 32]);
      const r = await call(t.origin, 'GET', '/api/v2/users?per_page=1', { token: t.token });
      assert.deepEqual([r.status, limitOf(r), remainingOf(r)], [200, 50, 49], 'enterprise: the API-wide bucket only for users');
      t.emu.setRateProfile(null);
      assert.ok(!(await call(t.origin, 'GET', '/api/v2/users?per_page=1', { token: t.token })).headers.has('x-ratelimit-limit'));
    } finally {
      await t.stop();
    }
  });

  test('free: the API-wide 2/s bucket only; none: no buckets and no headers', async () => {
    const frozen = Date.now();
    const t = await seeded(10, { rateProfile: 'free', rateClock: () => frozen });
    try {
      const replies = await burst(3, (i) => call(t.origin, 'GET', i ? '/api/v2/users' : '/api/v2/roles', { token: t.token }));
      assert.equal(replies.filter((r) => r.status === 429).length, 1);
      assert.ok(replies.every((r) => limitOf(r) === 2));
    } finally {
      await t.stop();
    }
    const n = await seeded(10, { rateProfile: 'none' });
    try {
      const replies = await burst(60, () => call(n.origin, 'GET', '/api/v2/users?per_page=1', { token: n.token }));
      assert.ok(replies.every((r) => r.status === 200 && !r.headers.has('x-ratelimit-limit')));
    } finally {
      await n.stop();
    }
  });
});
