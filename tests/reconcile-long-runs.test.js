'use strict';
// What a long --apply meets: a token that expires mid-run (renewed before expiry, and once on
// a 401), and Ctrl-C (SIGINT: the requests in flight finish, exit 130, a re-run resumes).
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { TenantClient } = require('../pkg-scripts/reconcile/client.js');
const { tenant, reconcile, writeCounts, total, isWrite, POLICY } = require('./reconcile-helpers.js');

const APPLY = ['--policy', POLICY, '--apply', '--max-changes', '100000'];
const IN_FLIGHT = 4; // apply.js's DEFAULT_CONCURRENCY

function client(t, o = {}) {
  return new TenantClient({ origin: t.origin, clientId: t.env.AUTH0_CLIENT_ID, clientSecret: t.secret, say: () => {}, sleep: async () => {}, ...o });
}
const count = (emu, route, status) => emu.requests.filter((r) => r.route === route && (status === undefined || r.status === status)).length;
const TOKEN = 'POST /oauth/token';
const ROLES = 'GET /api/v2/roles';

describe('token renewal', () => {
  test('a token about to expire is renewed before the request, not after a 401', async () => {
    const t = await tenant(10, { tokenLifetime: 3 });
    let skew = 0;
    try {
      const c = client(t, { now: () => Date.now() + skew });
      await c.authenticate();
      assert.ok(Math.abs(c.tokenExpiresAt - Date.now() - 3000) < 500, 'expiry from expires_in');
      await c.send('GET', '/api/v2/roles');
      assert.equal(count(t.emu, TOKEN), 1, 'a fresh token is not renewed');
      skew = 2800; // within a tenth of its life of expiring
      const first = c.token;
      const r = await c.send('GET', '/api/v2/roles');
      assert.equal(r.status, 200);
      assert.notEqual(c.token, first);
      assert.equal(count(t.emu, TOKEN), 2);
      assert.equal(c.renewals, 1);
      assert.equal(t.emu.requests.filter((e) => e.status === 401).length, 0, 'no request was refused');
    } finally {
      await t.stop();
    }
  });

  test('a 401 gets one fresh token, however many requests saw it; a second 401 is the answer', async () => {
    const t = await tenant(10);
    try {
      const c = client(t);
      await c.authenticate();
      t.emu.tokens.clear(); // revoked
      const rs = await Promise.all([1, 2, 3].map(() => c.send('GET', '/api/v2/roles')));
      assert.deepEqual(rs.map((r) => r.status), [200, 200, 200]);
      assert.equal(count(t.emu, TOKEN), 2, 'one renewal for three 401s');
      t.emu.injectFault({ method: 'GET', path: '/api/v2/roles', status: 401, times: Infinity });
      const r = await c.send('GET', '/api/v2/roles');
      assert.equal(r.status, 401, 'no loop of renewals');
      assert.equal(count(t.emu, ROLES, 401), 3 + 2);
      assert.equal(count(t.emu, TOKEN), 3);
    } finally {
      await t.stop();
    }
  });

  test('a renewal that fails while the token still works does not stop the run', async () => {
    const t = await tenant(10, { tokenLifetime: 3 });
    let skew = 0;
    try {
      const notes = [];
      const c = client(t, { now: () => Date.now() + skew, onRetry: (l) => notes.push(l) });
      await c.authenticate();
      skew = 2800;
      t.emu.injectFault({ method: 'POST', path: '/oauth/token', status: 503, times: Infinity });
      const r = await c.send('GET', '/api/v2/roles');
      assert.equal(r.status, 200, 'the old token still works');
      assert.ok(notes.some((l) => /renewal before the token expires.*still works/.test(l)), notes.join('\n'));
      const tries = count(t.emu, TOKEN);
      await c.send('GET', '/api/v2/roles');
      assert.equal(count(t.emu, TOKEN), tries, 'not retried before 5 s');
      skew = 3500; // expired now: the failure is the run's
      await assert.rejects(c.send('GET', '/api/v2/roles'), /oauth\/token/);
    } finally {
      await t.stop();
    }
  });

  test('an --apply that outlives its token: renewed, no 401, converges', async () => {
    // essentials ×10: 200 user writes a minute ×10 → a few seconds for this plan; tokens live 2 s.
    const t = await tenant(600, { tokenLifetime: 2, rateProfile: 'essentials', rateSpeed: 10 });
    try {
      const started = Date.now();
      const r = await reconcile(APPLY, t.env);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const seconds = (Date.now() - started) / 1000;
      const tokens = count(t.emu, TOKEN);
      assert.ok(seconds > 2.5, `long enough to outlive a token (${seconds} s)`);
      assert.ok(tokens >= 2, `renewed (${tokens} tokens in ${seconds.toFixed(1)} s)`);
      assert.equal(t.emu.requests.filter((e) => e.status === 401).length, 0, 'renewed before expiry, never refused');
      const again = await reconcile(APPLY, t.env);
      assert.match(again.stdout, /with changes: 0;/);
    } finally {
      await t.stop();
    }
  });
});

describe('Ctrl-C (SIGINT)', () => {
  test('during --apply: the requests in flight finish, exit 130, a re-run completes the plan', async () => {
    const t = await tenant(600, { rateProfile: 'essentials', rateSpeed: 10 });
    try {
      let child = null;
      let n = 0;
      const K = 30;
      // Requests the tenant had when the CLI said it stops: the writes after that were the
      // ones in flight then (a signal takes a moment to arrive: more may go before). A 429
      // answered to one of them is retried: the same write again, so not counted twice.
      let atNotice = null;
      const onSpawn = (c) => {
        child = c;
        c.stderr.on('data', (d) => { if (atNotice === null && /interrupted: finishing/.test(d)) atNotice = t.emu.requests.length; });
      };
      t.emu.onRequest = (e) => { if (isWrite(e) && ++n === K && child) child.kill('SIGINT'); };
      const r = await reconcile(APPLY, t.env, { onSpawn });
      t.emu.onRequest = null;
      assert.equal(r.status, 130, r.stdout + r.stderr);
      assert.match(r.stderr, /interrupted: finishing the requests in flight, then stopping.*a re-run plans afresh from the tenant and sends only what is left/);
      const m = /interrupted: (\d+) write\(s\) sent of (\d+), the requests in flight finished.*run the same command again/.exec(r.stdout);
      assert.ok(m, r.stdout);
      const written = total(writeCounts(t.emu));
      assert.equal(Number(m[1]), written, 'the report counts every write the tenant saw');
      assert.ok(atNotice !== null && written >= K, `the notice came after the ${K}th write (${written} in all)`);
      const after = t.emu.requests.slice(atNotice).filter((e) => isWrite(e) && e.status !== 429).length;
      assert.ok(after <= IN_FLIGHT, `stopped after the ${IN_FLIGHT} in flight (${after} writes after the notice, ${written} in all)`);
      assert.ok(written < Number(m[2]));
      const rerun = await reconcile(APPLY, t.env);
      assert.equal(rerun.status, 0, rerun.stdout + rerun.stderr);
      assert.match(rerun.stdout, /done: the tenant matches the plan/);
      const last = await reconcile(APPLY, t.env);
      assert.match(last.stdout, /with changes: 0;/);
    } finally {
      await t.stop();
    }
  });

  test('while reading: stops at once, exit 130, nothing written', async () => {
    const t = await tenant(600);
    try {
      let child = null;
      t.emu.onRequest = (e) => { if (e.route.startsWith('GET /api/v2/roles/') && child) child.kill('SIGINT'); };
      const r = await reconcile(APPLY, t.env, { onSpawn: (c) => { child = c; } });
      t.emu.onRequest = null;
      assert.equal(r.status, 130, r.stdout + r.stderr);
      assert.match(r.stderr, /interrupted while reading the tenant: nothing was changed/);
      assert.equal(total(writeCounts(t.emu)), 0);
    } finally {
      await t.stop();
    }
  });
});
