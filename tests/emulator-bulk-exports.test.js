'use strict';
// User export jobs (pkg-scripts/emulator/exports-api.js) over real HTTP: POST
// /jobs/users-exports and GET /jobs/{id} against the OpenAPI subset, the pending → processing
// → completed lifecycle, the gzipped NDJSON (and CSV) file with its fields, limit and
// connection, the 60 s link (shortened here) that turns into a 403 and is renewed by a fresh
// GET, and a download that is streamed (100k users, read while generated).
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('node:zlib');
const { call, seeded, getToken, requestConforms, assertValidRequest, assertConforms, assertApiError, enc } = require('./bulk-http.js');
const { seedStats } = require('../pkg-scripts/emulator/seed.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ndjson = (res) => zlib.gunzipSync(res.buf).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

async function newJob(t, body) {
  assertValidRequest('/jobs/users-exports', 'post', body);
  const res = await call(t.origin, 'POST', '/api/v2/jobs/users-exports', { token: t.token, body });
  assertConforms(res, '/jobs/users-exports', 'post');
  assert.equal(res.status, 200, res.text);
  return res.json;
}
async function getJob(t, id) {
  const res = await call(t.origin, 'GET', `/api/v2/jobs/${enc(id)}`, { token: t.token });
  assertConforms(res, '/jobs/{id}', 'get');
  return res;
}
async function completed(t, id) {
  for (let i = 0; i < 100; i++) {
    const res = await getJob(t, id);
    if (res.json.status === 'completed') return res.json;
    await sleep(20);
  }
  throw new Error(`job ${id} did not complete`);
}
const download = (url) => call('', 'GET', url);

describe('users export jobs', () => {
  let t;
  before(async () => { t = await seeded(500, { exportJobMs: 0, exportLinkMs: 300, tenantName: 'acme-dev' }); });
  after(() => t.stop());

  test('pending → processing → completed, with percentage_done; location only when completed', async () => {
    const slow = await seeded(20, { exportJobMs: 500 });
    try {
      const job = await newJob(slow, { format: 'json' });
      assert.match(job.id, /^job_[A-Za-z0-9]{16}$/);
      assert.deepEqual([job.type, job.status, job.format], ['users_export', 'pending', 'json']);
      const seen = [];
      let last;
      for (let i = 0; i < 100 && (!last || last.status !== 'completed'); i++) {
        last = (await getJob(slow, job.id)).json;
        if (seen[seen.length - 1] !== last.status) seen.push(last.status);
        assert.equal(typeof last.percentage_done, 'number');
        assert.equal('location' in last, last.status === 'completed', `location on ${last.status}`);
        if (last.status === 'processing') assert.ok(last.percentage_done >= 0 && last.percentage_done < 100 && last.time_left_seconds >= 1);
        await sleep(25);
      }
      assert.deepEqual(seen, ['pending', 'processing', 'completed']);
      assert.equal(last.percentage_done, 100);
      assertApiError(await getJob(slow, 'job_0000000000000000'), 404);
    } finally {
      await slow.stop();
    }
  });

  test('the file: gzipped NDJSON of every user in store order, as GET /users/{id} shows them, named after the tenant', async () => {
    const job = await completed(t, (await newJob(t, {})).id);
    assert.match(job.location, /\/exports\/job_[A-Za-z0-9]{16}\/acme-dev\.json\.gz\?Expires=\d+&Key-Pair-Id=[^&]+&Signature=[A-Za-z0-9_-]+$/);
    const res = await download(job.location);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/gzip');
    assert.equal(res.headers.get('transfer-encoding'), 'chunked', 'streamed, no content-length');
    assert.deepEqual([...res.buf.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
    const users = ndjson(res);
    assert.deepEqual(users.map((u) => u.user_id), Array.from({ length: 500 }, (_, i) => t.emu.users.gen.idOf(i)));
    const one = await call(t.origin, 'GET', `/api/v2/users/${enc(users[123].user_id)}`, { token: t.token });
    for (const [k, v] of Object.entries(one.json)) assert.deepEqual(users[123][k], v, k);
  });

  test('fields (only those, export_as renames, nested paths), limit, connection_id', async () => {
    const fields = [{ name: 'user_id' }, { name: 'email', export_as: 'mail' }, { name: 'app_metadata.plan', export_as: 'plan' },
      { name: 'identities[0].connection', export_as: 'conn' }, { name: 'app_metadata' }];
    const job = await newJob(t, { format: 'json', fields, limit: 40 });
    assert.deepEqual([job.limit, job.fields], [40, fields]);
    const users = ndjson(await download((await completed(t, job.id)).location));
    assert.equal(users.length, 40);
    for (const u of users) {
      assert.ok(Object.keys(u).every((k) => ['user_id', 'mail', 'plan', 'conn', 'app_metadata'].includes(k)), Object.keys(u).join());
      assert.equal(u.plan, u.app_metadata.plan);
      assert.match(u.mail, /@/);
    }
    assert.ok(users.some((u) => u.plan === undefined) && users.some((u) => u.plan === 'premium'), 'missing values are left out');
    const github = t.fixture.connections.find((c) => c.name === 'github');
    const byConn = await newJob(t, { connection_id: github.id, fields: [{ name: 'user_id' }, { name: 'identities[0].provider', export_as: 'p' }] });
    assert.deepEqual([byConn.connection_id, byConn.connection], [github.id, 'github']);
    const gh = ndjson(await download((await completed(t, byConn.id)).location));
    assert.equal(gh.length, seedStats(t.emu.users.gen).providers.github);
    assert.ok(gh.every((u) => u.p === 'github' && u.user_id.startsWith('github|')));
  });

  test('the file shows writes and leaves deleted users out', async () => {
    const [a, b] = [t.emu.users.gen.idOf(10), t.emu.users.gen.idOf(11)];
    await call(t.origin, 'PATCH', `/api/v2/users/${enc(a)}`, { token: t.token, body: { app_metadata: { plan: 'gold' } } });
    t.emu.deleteUser(b);
    const users = ndjson(await download((await completed(t, (await newJob(t, { fields: [{ name: 'user_id' }, { name: 'app_metadata' }] })).id)).location));
    assert.equal(users.length, 499);
    assert.equal(users.find((u) => u.user_id === a).app_metadata.plan, 'gold');
    assert.ok(!users.some((u) => u.user_id === b));
  });

  test('the link expires (403) after exportLinkMs; a fresh GET /jobs/{id} gives a fresh link that works', async () => {
    const id = (await newJob(t, { limit: 2 })).id;
    const first = (await completed(t, id)).location;
    assert.equal((await download(first)).status, 200);
    await sleep(350);
    const expired = await download(first);
    assert.equal(expired.status, 403);
    assert.match(expired.text, /<Code>AccessDenied<\/Code>.*expired/s);
    const fresh = (await getJob(t, id)).json.location;
    assert.notEqual(fresh, first);
    const again = await download(fresh);
    assert.equal(again.status, 200);
    assert.equal(ndjson(again).length, 2);
    assert.equal((await download(first)).status, 403, 'the old link stays dead');
    const u = new URL(fresh);
    const forged = [
      fresh.replace(/Signature=[^&]+/, 'Signature=AAAA'), fresh.replace(/Expires=\d+/, (m) => `Expires=${Number(m.slice(8)) + 3600}`),
      fresh.replace('acme-dev.json.gz', 'other.json.gz'), fresh.replace(/job_[A-Za-z0-9]{16}/, 'job_0000000000000000'), `${u.origin}${u.pathname}`,
    ];
    for (const url of forged) assert.equal((await download(url)).status, 403, url);
  });

  test('csv: a header row, Auth0\'s escaping (quoted, inner quotes doubled, a leading \'), dates as is', async () => {
    const id = t.emu.users.gen.idOf(0);
    t.emu.users.get(id).name = 'Bob "The" =Builder';
    const job = await newJob(t, { format: 'csv', limit: 2, fields: [{ name: 'user_id' }, { name: 'name' }, { name: 'created_at' }, { name: 'logins_count' }, { name: 'app_metadata.plan', export_as: 'plan' }] });
    const res = await download((await completed(t, job.id)).location);
    assert.match(res.headers.get('content-disposition') || '', /acme-dev\.csv\.gz/);
    const lines = zlib.gunzipSync(res.buf).toString('utf8').trimEnd().split('\n');
    assert.equal(lines[0], 'user_id,name,created_at,logins_count,plan');
    const u = t.emu.users.peek(id);
    assert.equal(lines[1], `"'${id}","'Bob ""The"" =Builder",${u.created_at},${u.logins_count},`);
    assert.equal(lines.length, 3);
  });

  test('bodies the spec refuses are 400s; CSV limits; an unknown connection; scopes', async () => {
    for (const body of [{ format: 'xml' }, { limit: 0 }, { limit: 1.5 }, { connection_id: 'con_short' }, { fields: [{}] }, { fields: [{ name: 'x', as: 'y' }] },
      { fields: [{ name: 'x'.repeat(101) }] }, { extra: 1 }, []]) {
      assert.equal(requestConforms('/jobs/users-exports', 'post', body), false, JSON.stringify(body));
      const res = await call(t.origin, 'POST', '/api/v2/jobs/users-exports', { token: t.token, body });
      assertConforms(res, '/jobs/users-exports', 'post');
      assertApiError(res, 400, 'invalid_body');
    }
    const tooMany = Array.from({ length: 31 }, (_, i) => ({ name: `user_metadata.k${i}` }));
    for (const fields of [tooMany, [{ name: 'app_metadata' }]]) {
      assertApiError(await call(t.origin, 'POST', '/api/v2/jobs/users-exports', { token: t.token, body: { format: 'csv', fields } }), 400, 'invalid_body');
    }
    assertApiError(await call(t.origin, 'POST', '/api/v2/jobs/users-exports', { token: t.token, body: { fields: [{ name: 'a' }, { name: 'b', export_as: 'a' }] } }), 400);
    const unknown = await call(t.origin, 'POST', '/api/v2/jobs/users-exports', { token: t.token, body: { connection_id: 'con_0000000000000000' } });
    assertConforms(unknown, '/jobs/users-exports', 'post');
    assertApiError(unknown, 400, 'inexistent_connection');
    t.emu.clients.push({ client_id: 'roles-only', client_secret: 'y'.repeat(32), scopes: ['read:roles'] });
    const other = await getToken(t.origin, { client_id: 'roles-only', client_secret: 'y'.repeat(32) });
    const forbidden = await call(t.origin, 'POST', '/api/v2/jobs/users-exports', { token: other, body: {} });
    assertConforms(forbidden, '/jobs/users-exports', 'post');
    assertApiError(forbidden, 403, 'insufficient_scope');
  });
});

describe('a 100k-user tenant', () => {
  test('exports every user in a few seconds, generating them as the client reads (streamed)', async () => {
    const t = await seeded(100000, { exportJobMs: 0 });
    try {
      const gen = t.emu.users.gen;
      const make = gen.make;
      let made = 0;
      gen.make = (i) => { made++; return make(i); };
      const loc = (await completed(t, (await newJob(t, { fields: [{ name: 'user_id' }] })).id)).location;
      // A client that reads one chunk and stops: far from all users were made.
      const partial = await fetch(loc);
      const reader = partial.body.getReader();
      await reader.read();
      await sleep(200);
      assert.ok(made < 100000, `${made} users made for a client that read one chunk`);
      await reader.cancel();
      await sleep(200);
      const stopped = made;
      await sleep(100);
      assert.equal(made, stopped, 'the client hung up: the emulator stopped making users');
      made = 0;
      const t0 = Date.now();
      const res = await fetch(loc);
      let lines = 0;
      let last = '';
      const gunzip = zlib.createGunzip();
      const done = new Promise((resolve, reject) => {
        gunzip.on('data', (c) => {
          const s = last + c.toString('utf8');
          const parts = s.split('\n');
          last = parts.pop();
          lines += parts.length;
        });
        gunzip.on('end', resolve);
        gunzip.on('error', reject);
      });
      for await (const chunk of res.body) gunzip.write(chunk);
      gunzip.end();
      await done;
      assert.equal(lines, 100000);
      assert.equal(made, 100000);
      assert.ok(Date.now() - t0 < 15000, `${Date.now() - t0} ms`);
      const page = await call(t.origin, 'GET', '/api/v2/users?page=9&per_page=100&include_totals=true', { token: t.token });
      assert.equal(page.json.total, 100000);
    } finally {
      await t.stop();
    }
  });
});
