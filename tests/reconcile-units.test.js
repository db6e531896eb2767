'use strict';
// reconcile's modules on their own, with small fakes: pacing (pace.js), the export download
// (gzip, no Authorization, expired links, resume), line splitting, role resolution and
// checkpoint paging, the core's stream (fake core: order, a core that dies), the summary, the
// four-phase applier (global phase order, bisection, role gone, 409, a fatal 403), progress.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const zlib = require('node:zlib');
const path = require('node:path');
const { Pacer, ServerClock, endpointClass, secondsFor } = require('../pkg-scripts/reconcile/pace.js');
const { splitLines, decode, checkLocation, downloadLines, openSource } = require('../pkg-scripts/reconcile/read-source.js');
const { resolveRoles, roleMembers } = require('../pkg-scripts/reconcile/memberships.js');
const { planStream } = require('../pkg-scripts/reconcile/core.js');
const { PlanSummary } = require('../pkg-scripts/reconcile/summary.js');
const { patchBody, spoolRecord, changeList } = require('../pkg-scripts/reconcile/changes.js');
const { Applier, Pool } = require('../pkg-scripts/reconcile/apply.js');
const { Progress } = require('../pkg-scripts/reconcile/progress.js');
const { ConfigError, DeployError } = require('../pkg-scripts/lib/errors.js');

const FAKE_CORE = path.join(__dirname, 'fixtures/fake-reconcile-core.js');

/** A clock that only moves when slept on. */
function fakeTime(start = 1_700_000_000_000) {
  const c = { t: start, slept: [] };
  c.now = () => c.t;
  c.sleep = async (ms) => { c.slept.push(ms); c.t += ms; };
  return c;
}
const headers = (o) => new Headers(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)])));

describe('pace.js', () => {
  test('endpoint classes: reads and writes of users and role members apart', () => {
    assert.equal(endpointClass('GET', '/api/v2/users'), 'users-read');
    assert.equal(endpointClass('PATCH', '/api/v2/users/auth0|1'), 'users-write');
    assert.equal(endpointClass('DELETE', '/api/v2/users/x/roles'), 'users-write');
    assert.equal(endpointClass('POST', '/api/v2/roles/rol_1/users'), 'role-members-write');
    assert.equal(endpointClass('GET', '/api/v2/roles/rol_1/users'), 'role-members-read');
    assert.equal(endpointClass('GET', '/api/v2/roles'), 'roles-read');
    assert.equal(endpointClass('GET', '/api/v2/jobs/job_1'), 'jobs');
    assert.equal(endpointClass('POST', '/oauth/token'), 'token');
  });

  test('the server clock: Date headers narrow the offset to under a second', () => {
    const c = new ServerClock();
    assert.equal(c.offset, 0);
    // The server is 5.3 s ahead; replies take 20 ms.
    for (let local = 1000; local < 9000; local += 370) {
      const server = local + 5300 + 10;
      c.observe(new Date(Math.floor(server / 1000) * 1000).toUTCString(), local, local + 20);
    }
    assert.ok(Math.abs(c.offset - 5300) < 500, c.offset);
  });

  test('at remaining 0 a class waits until the reset second; other classes do not', async () => {
    const c = fakeTime();
    const p = new Pacer({ now: c.now, sleep: c.sleep, marginMs: 50 });
    const reset = Math.ceil(c.t / 1000) + 3;
    await p.acquire('users-write');
    p.release('users-write', { status: 200, headers: headers({ 'x-ratelimit-limit': 20, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': reset }), sentMs: c.t });
    await p.acquire('users-read'); // another bucket
    assert.deepEqual(c.slept, []);
    p.release('users-read', {});
    await p.acquire('users-write');
    assert.equal(c.slept.length, 1);
    assert.ok(Math.abs(c.t - (reset * 1000 + 50)) < 1, 'slept to the reset second + margin');
    // Full again: the next 19 go at once.
    for (let i = 0; i < 19; i++) await p.acquire('users-write');
    assert.equal(c.slept.length, 1);
  });

  test('requests in flight count against remaining; a 429 blocks the class for Retry-After', async () => {
    const c = fakeTime();
    const p = new Pacer({ now: c.now, sleep: c.sleep });
    await p.acquire('role-members-write');
    p.release('role-members-write', { status: 200, headers: headers({ 'x-ratelimit-limit': 10, 'x-ratelimit-remaining': 2, 'x-ratelimit-reset': Math.ceil(c.t / 1000) + 1 }) });
    await p.acquire('role-members-write');
    await p.acquire('role-members-write');
    let third = false;
    const pending = p.acquire('role-members-write').then(() => { third = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(third, false, 'two in flight use up remaining 2');
    p.release('role-members-write', { status: 429, headers: headers({ 'x-ratelimit-limit': 10, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': Math.ceil(c.t / 1000) + 1 }), retryAfterMs: 2000 });
    p.release('role-members-write', { status: 200, headers: null });
    await pending;
    assert.ok(c.slept.reduce((a, b) => a + b, 0) >= 2000, 'waited out Retry-After');
    assert.equal(p.limitedCounts()['role-members-write'], 1);
  });

  test('the refill rate: measured from a drained bucket, a lower bound otherwise', () => {
    const c = fakeTime(1_700_000_000_000);
    const p = new Pacer({ now: c.now, sleep: c.sleep });
    // Drained: 40 missing, full again in 8 s → 5/s.
    p.release('users-read', { status: 200, headers: headers({ 'x-ratelimit-limit': 40, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': 1_700_000_008 }) });
    const b = p.bucket('users-read');
    assert.equal(b.measured, true);
    assert.ok(b.perSecond > 4.5 && b.perSecond < 6, b.perSecond);
    assert.equal(secondsFor(140, b).toFixed(0), (100 / b.perSecond).toFixed(0));
    // Steady reads that never drained it: 50 requests in 1 s, remaining stayed 39 → ≥ 50/s.
    const q = new Pacer({ now: c.now, sleep: c.sleep });
    for (let i = 0; i <= 50; i++) {
      c.t += 20;
      q.release('users-read', { status: 200, headers: headers({ 'x-ratelimit-limit': 40, 'x-ratelimit-remaining': 39, 'x-ratelimit-reset': Math.ceil(c.t / 1000) }) });
    }
    const lb = q.bucket('users-read');
    assert.equal(lb.measured, false);
    assert.ok(lb.perSecond >= 45, lb.perSecond);
    assert.equal(new Pacer().bucket('users-read'), null);
  });
});

/** A local HTTP server for download tests: handler(req, res). */
async function server(handler) {
  const s = http.createServer(handler);
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${s.address().port}`, close: () => new Promise((r) => { s.closeAllConnections(); s.close(r); }) };
}
async function collect(it) {
  const out = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('read-source.js', () => {
  test('lines split across chunks, CRLF, blank lines dropped; a 16 MB line refused', async () => {
    async function *chunks() { yield Buffer.from('{"a":1}\r\n{"b"'); yield Buffer.from(':2}\n\n'); yield Buffer.from('{"c":"é'); yield Buffer.from('"}'); }
    assert.deepEqual(await collect(splitLines(chunks())), ['{"a":1}', '{"b":2}', '{"c":"é"}']);
    // A multi-byte character cut between chunks.
    const e = Buffer.from('é\n');
    async function *cut() { yield e.subarray(0, 1); yield e.subarray(1); }
    assert.deepEqual(await collect(splitLines(cut())), ['é']);
    async function *huge() { for (let i = 0; i < 17; i++) yield Buffer.alloc(1024 * 1024, 0x61); }
    await assert.rejects(collect(splitLines(huge())), /a line over 16 MB/);
  });

  test('gzip is recognised by its magic bytes, plain text passes as it is', async () => {
    const text = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ user_id: `u${i}` })).join('\n');
    const gz = zlib.gzipSync(text);
    async function *of(buf) { for (let i = 0; i < buf.length; i += 333) yield buf.subarray(i, i + 333); }
    assert.equal(Buffer.concat(await collect(decode(of(gz)))).toString(), text);
    assert.equal(Buffer.concat(await collect(decode(of(Buffer.from(text))))).toString(), text);
    await assert.rejects(collect(decode(of(gz.subarray(0, gz.length - 20)))), /unexpected end of file/);
  });

  test('the download link: https, or http to loopback from a loopback tenant; never credentials', () => {
    assert.equal(checkLocation('https://user-exports.auth0.com/job/t.json.gz?Signature=x', 'https://t.eu.auth0.com').host, 'user-exports.auth0.com');
    assert.ok(checkLocation('http://127.0.0.1:9/exports/a', 'http://127.0.0.1:8'));
    assert.throws(() => checkLocation('http://user-exports.auth0.com/x', 'https://t.eu.auth0.com'), /only https is followed/);
    assert.throws(() => checkLocation('http://evil.example/x', 'http://127.0.0.1:8'), /only https is followed/);
    assert.throws(() => checkLocation('https://a:b@x.example/x', 'https://t.eu.auth0.com'), /carries credentials/);
    assert.throws(() => checkLocation('not a url', 'https://t.eu.auth0.com'), /not a URL/);
  });

  test('downloads: no Authorization header, Content-Encoding gzip or a .gz body; 403 asks again', async () => {
    const seen = [];
    const body = '{"user_id":"a"}\n{"user_id":"b"}\n';
    const s = await server((req, res) => {
      seen.push(req.headers);
      if (req.url === '/enc') {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/x-ndjson' });
        return res.end(zlib.gzipSync(body));
      }
      if (req.url === '/gz') {
        res.writeHead(200, { 'content-type': 'application/gzip' });
        return res.end(zlib.gzipSync(body));
      }
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end('<Error><Code>AccessDenied</Code></Error>');
    });
    try {
      assert.deepEqual(await collect(downloadLines(`${s.url}/enc`, s.url)), ['{"user_id":"a"}', '{"user_id":"b"}']);
      assert.deepEqual(await collect(downloadLines(`${s.url}/gz`, s.url)), ['{"user_id":"a"}', '{"user_id":"b"}']);
      await assert.rejects(collect(downloadLines(`${s.url}/expired`, s.url)), (e) => e.constructor.name === 'RetryDownload' && /403 \(the link expired\)/.test(e.message));
      for (const h of seen) assert.equal(h.authorization, undefined);
    } finally {
      await s.close();
    }
  });

  test('an export is polled with backoff, re-linked after a 403 and resumed after a cut, each user once', async () => {
    const users = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ user_id: `auth0|${i}`, email: `u${i}@x.example` }) + '\n').join('');
    let downloads = 0;
    const s = await server((req, res) => {
      downloads++;
      if (req.url.endsWith('link1')) { // expired
        res.writeHead(403);
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/gzip' });
      const gz = zlib.gzipSync(users);
      if (req.url.endsWith('link2')) { // cut off mid-file
        res.write(gz.subarray(0, Math.floor(gz.length / 2)));
        return setTimeout(() => res.socket.destroy(), 20);
      }
      res.end(gz);
    });
    const calls = [];
    let polls = 0;
    const client = {
      call: async (method, p, o) => {
        calls.push(`${method} ${p}`);
        if (method === 'POST') {
          assert.deepEqual(o.body.fields.map((f) => f.name), ['user_id', 'email', 'email_verified', 'identities', 'app_metadata', 'user_metadata', 'logins_count']);
          assert.equal(o.body.format, 'json');
          return { id: 'job_1', status: 'pending' };
        }
        polls++;
        if (polls < 3) return { id: 'job_1', status: 'processing', percentage_done: polls * 30 };
        return { id: 'job_1', status: 'completed', location: `${s.url}/x.json.gz?link${polls - 2}` };
      },
    };
    const c = fakeTime();
    try {
      const { info, users: it } = await openSource(client, { source: 'export', origin: s.url, sleep: c.sleep, now: c.now });
      const got = (await collect(it)).map((u) => u.user_id);
      assert.equal(got.length, 3000);
      assert.equal(new Set(got).size, 3000);
      assert.equal(got[2999], 'auth0|2999');
      assert.equal(info.read, 3000);
      assert.equal(downloads, 3, 'expired, cut off, whole');
      assert.ok(c.slept[1] > c.slept[0], 'the polls back off');
    } finally {
      await s.close();
    }
  });
});

describe('memberships.js', () => {
  const tenantRoles = [{ id: 'rol_1', name: 'Premium User' }, { id: 'rol_2', name: 'Twin' }, { id: 'rol_3', name: 'Twin' }];
  test('names resolve to exactly one role, ids must exist; every problem named at once', () => {
    assert.deepEqual(resolveRoles({ names: ['Premium User'], ids: ['rol_3'] }, tenantRoles), [{ id: 'rol_1', name: 'Premium User' }, { id: 'rol_3', name: 'Twin' }]);
    assert.throws(() => resolveRoles({ names: ['premium  user', 'Twin', 'Nope'], ids: ['rol_9'] }, tenantRoles), (e) => e instanceof ConfigError &&
      /no role is named "premium {2}user" \(differs by case or whitespace: "Premium User"\)/.test(e.message) && /"Twin" names 2 roles \(rol_2, rol_3\)/.test(e.message) &&
      /no role is named "Nope"/.test(e.message) && /no role has the id rol_9/.test(e.message));
  });

  test('checkpoint paging follows next until it is absent; a repeated next is an error', async () => {
    const pages = { undefined: { users: [{ user_id: 'a' }, { user_id: 'b' }], next: 'n1' }, n1: { users: [{ user_id: 'c' }], next: 'n2' }, n2: { users: [] } };
    const seen = [];
    const client = { call: async (_m, _p, { query }) => { seen.push(query); return pages[query.from]; } };
    assert.deepEqual([...await roleMembers(client, { id: 'rol_1' })], ['a', 'b', 'c']);
    assert.deepEqual(seen.map((q) => q.take), [100, 100, 100]);
    const loop = { call: async () => ({ users: [{ user_id: 'a' }], next: 'same' }) };
    await assert.rejects(roleMembers(loop, { id: 'rol_1' }), /came back twice/);
    const offset = { call: async () => [{ user_id: 'a' }] };
    await assert.rejects(roleMembers(offset, { id: 'rol_1' }), /expected checkpoint paging/);
  });
});

describe('core.js (with the stand-in core)', () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconcile-units-'));
  const policyFile = path.join(dir, 'p.json');
  const rolesFile = path.join(dir, 'r.json');
  fs.writeFileSync(policyFile, JSON.stringify({ rules: [{ name: 'g', when: { provider: ['google-oauth2'] }, assign_roles: ['P'], set_app_metadata: { t: 1 } }] }));
  fs.writeFileSync(rolesFile, JSON.stringify([{ id: 'rol_p', name: 'P' }]));
  async function *inputs(n) {
    for (let i = 0; i < n; i++) yield { user: { user_id: `google-oauth2|${i}`, identities: [{ provider: i % 2 ? 'google-oauth2' : 'auth0' }], app_metadata: { pad: 'x'.repeat(500) } }, roles: i % 4 === 1 ? ['rol_p'] : [] };
  }

  test('20,000 users stream through in order, one plan each', async () => {
    let n = 0;
    for await (const { input, plan } of planStream({ bin: FAKE_CORE, policyFile, rolesFile, inputs: inputs(20000) })) {
      assert.equal(plan.user_id, input.user.user_id);
      assert.equal(plan.user_id, `google-oauth2|${n}`);
      assert.equal(plan.assign.length, n % 4 === 3 ? 1 : 0);
      n++;
    }
    assert.equal(n, 20000);
  });

  test('a core that dies mid-stream, a bad policy, a missing core: clear errors', async () => {
    process.env.FAKE_CORE_DIE_AFTER = '50';
    try {
      await assert.rejects(collect(planStream({ bin: FAKE_CORE, policyFile, rolesFile, inputs: inputs(1000) })), (e) => e instanceof DeployError && /exited 3/.test(e.message));
    } finally {
      delete process.env.FAKE_CORE_DIE_AFTER;
    }
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"rules": 3}');
    await assert.rejects(collect(planStream({ bin: FAKE_CORE, policyFile: path.join(dir, 'bad.json'), rolesFile, inputs: inputs(3) })), (e) => e instanceof ConfigError && /rules: expected a list/.test(e.message));
    await assert.rejects(collect(planStream({ bin: path.join(dir, 'nope'), policyFile, rolesFile, inputs: inputs(3) })), (e) => e instanceof ConfigError && /missing/.test(e.message));
  });

  test('a source that fails stops the core and surfaces its own error', async () => {
    async function *failing() {
      yield* inputs(10);
      throw new DeployError('GET /api/v2/users: HTTP 500');
    }
    await assert.rejects(collect(planStream({ bin: FAKE_CORE, policyFile, rolesFile, inputs: failing() })), /GET \/api\/v2\/users: HTTP 500/);
  });
});

describe('summary.js and changes.js', () => {
  const plan = (id, o) => ({ user_id: id, rules: [{ name: 'g', status: 'matched' }, { name: 'h', status: 'not_evaluable' }], why: { g: ['x'] }, remove: [], patch: null, assign: [], patch_after: null, changes: 0, ...o });
  test('per rule counts, bookkeeping keys, minimum writes by batch size', () => {
    const s = new PlanSummary({ policy: { rules: [{ name: 'g', set_app_metadata: { t: 1 } }, { name: 'h' }] }, batchSize: 2 });
    s.add(plan('a', { assign: [{ id: 'rol_p', name: 'P', rules: ['g'] }], patch: { app_metadata: { t: 1, provisioning_roles: ['P'] } }, changes: 3 }));
    s.add(plan('b', { assign: [{ id: 'rol_p', name: 'P', rules: ['g'] }], remove: [{ id: 'rol_q', name: 'Q', rules: ['g'] }], changes: 2 }));
    s.add(plan('c', { assign: [{ id: 'rol_p', name: 'P', rules: ['g'] }], patch_after: { app_metadata: { provisioning_pending: null } }, changes: 2 }));
    s.add(plan('d'));
    s.add({ user_id: null, error: 'not valid JSON' });
    assert.deepEqual(s.minimumWrites(), { deletes: 1, patches: 1, batches: 2, memberBatches: 0, orgRoles: 0, leaveBatches: 0, orgRoleRemovals: 0, patchAfter: 1, userWrites: 3, total: 5 });
    const table = s.table().join('\n');
    assert.match(table, /users scanned: 5; with changes: 3; changes: 7; errors: 1/);
    assert.match(table, /^g +4 +3 +1 +1 +0$/m);
    assert.match(table, /^h +0 +0 +0 +0 +4$/m);
    assert.match(table, /^\(bookkeeping keys\) +2 +$/m);
    assert.match(table, /error: \(no user_id\): not valid JSON/);
  });

  test('organization access: memberships in batches of 10 per organization, one roles write per user and organization', () => {
    const s = new PlanSummary({ policy: { rules: [{ name: 'g' }] }, batchSize: 100 });
    const org = (organization, join, roles) => ({ organization, join, roles: roles.map((id) => ({ id, name: id })), rules: ['g'] });
    for (let i = 0; i < 12; i++) s.add(plan(`u${i}`, { orgs: [org('acme', true, i < 3 ? ['rol_m'] : []), org('org_x', i === 0, [])], changes: 1 }));
    s.add(plan('v', { orgs: [org('acme', false, ['rol_m', 'rol_n'])], changes: 2 }));
    s.add(plan('w', { orgs: [org('acme', false, [])] })); // gives nothing: no write
    const min = s.minimumWrites();
    assert.deepEqual([min.memberBatches, min.orgRoles, min.total], [3, 4, 7]);
    assert.match(s.table().join('\n'), /^g +14 +0 +0 +13 +5 +0 +0$/m);
    assert.equal(s.withChanges, 13);
    assert.deepEqual(spoolRecord(plan('v', { orgs: [org('acme', false, ['rol_m'])] })).o, [{ g: 'acme', j: false, r: ['rol_m'] }]);
    assert.deepEqual(changeList(plan('a', { orgs: [org('acme', true, ['rol_m'])] })).map((c) => [c.phase, c.kind]), [[3, 'join_organization'], [3, 'assign_organization_role']]);
  });

  test('a PATCH body never carries an empty metadata object (Auth0 would clear it all)', () => {
    assert.deepEqual(patchBody({ app_metadata: {}, user_metadata: { a: 1 } }), { user_metadata: { a: 1 } });
    assert.equal(patchBody({ app_metadata: {} }), null);
    assert.deepEqual(spoolRecord(plan('a', { patch: { app_metadata: {} }, assign: [{ id: 'rol_p' }] })), { u: 'a', r: [], l: [], p: null, a: ['rol_p'], o: [], pa: null });
    assert.deepEqual(changeList(plan('a', { patch: { app_metadata: { x: null } } })).map((c) => c.kind), ['delete_app_metadata']);
  });
});

/** A scripted tenant for the applier: respond(method, path, body) → status; records every send. */
function fakeClient(respond) {
  const log = [];
  return {
    log,
    send: async (method, p, { body }) => {
      log.push({ method, path: p, body });
      await new Promise((r) => setImmediate(r));
      return { status: respond(method, p, body), attempts: 1, limited: 0 };
    },
    explain: (method, p, res) => ({ message: `${method} ${p}: HTTP ${res.status}` }),
    call: async (method, p) => {
      log.push({ method, path: p });
      const status = respond(method, p);
      if (status >= 300) throw Object.assign(new (require('../pkg-scripts/deploy/client.js').ApiError)('x', { status }), { status });
      return {};
    },
  };
}
function spoolOf(records) {
  return { records: async function *() { yield* records; } };
}

describe('apply.js', () => {
  const records = Array.from({ length: 30 }, (_, i) => ({ u: `u${i}`, r: i % 3 ? [] : ['rol_old'], p: { app_metadata: { i } }, a: ['rol_p', ...(i % 2 ? ['rol_q'] : [])], pa: i % 5 ? null : { app_metadata: { provisioning_pending: null } } }));

  test('phases in order across all users; batches per role; ≤ 4 in flight', async () => {
    let inflight = 0;
    let most = 0;
    const client = fakeClient(() => 200);
    const send = client.send;
    client.send = async (...a) => {
      most = Math.max(most, ++inflight);
      try { return await send(...a); } finally { inflight--; }
    };
    const rep = await new Applier({ client, batchSize: 8 }).run(spoolOf(records));
    const kinds = client.log.map((l) => (l.method === 'DELETE' ? 1 : l.method === 'POST' ? 3 : l.body.app_metadata.provisioning_pending === null ? 4 : 2));
    assert.deepEqual(kinds, [...kinds].sort(), 'every phase-1 write before any phase-2 one, and so on');
    assert.equal(client.log.filter((l) => l.method === 'POST' && l.path.includes('rol_p')).length, 4, '30 users in batches of 8');
    assert.equal(client.log.filter((l) => l.method === 'POST' && l.path.includes('rol_q')).length, 2, '15 users in batches of 8');
    assert.equal(rep.sent, 10 + 30 + 6 + 6);
    assert.equal(rep.failures, 0);
    assert.ok(most <= 4 && most >= 2, `in flight: ${most}`);
  });

  test('a batch answered 404 is bisected to the gone user; a gone role fails its users; a 409 holds back that user\'s later phases', async () => {
    const gone = new Set(['u7']);
    const client = fakeClient((method, p, body) => {
      if (p === '/api/v2/roles/rol_q') return 404;
      if (p === '/api/v2/roles/rol_q/users') return 404;
      if (method === 'POST') return body.users.some((u) => gone.has(u)) ? 404 : 200;
      if (p === '/api/v2/users/u4') return 409;
      return 200;
    });
    const rep = await new Applier({ client, batchSize: 16, roleNames: new Map([['rol_q', 'Q']]) }).run(spoolOf(records));
    assert.equal(rep.gone, 1);
    assert.ok(rep.splits >= 3 && rep.splits <= 5, `splits ${rep.splits}`);
    const assigned = client.log.filter((l) => l.method === 'POST' && l.path === '/api/v2/roles/rol_p/users').flatMap((l) => l.body.users);
    assert.ok(!assigned.includes('u4'), 'no grant after the failed PATCH');
    const okUsers = new Set();
    for (const l of client.log.filter((x) => x.method === 'POST' && x.path.includes('rol_p'))) if (!l.body.users.includes('u7')) for (const u of l.body.users) okUsers.add(u);
    assert.equal(okUsers.size, 28, 'everyone else got rol_p');
    assert.equal(client.log.filter((l) => l.path === '/api/v2/roles/rol_q').length, 1, 'the role is checked once');
    assert.ok(rep.failureSamples.some((f) => /role Q \(rol_q\) is gone/.test(f)));
    assert.ok(rep.failureSamples.some((f) => /^u4: PATCH \/api\/v2\/users\/u4: HTTP 409/.test(f)));
    const after = (u) => client.log.some((l) => l.path === `/api/v2/users/${u}` && l.body && l.body.app_metadata.provisioning_pending === null);
    assert.ok(after('u0'), 'u0 got all its grants: its markers are cleared');
    assert.ok(!after('u5') && !after('u15'), 'u5 and u15 wait for rol_q: their markers stay');
  });

  test('a 403 stops the run after the writes in flight', async () => {
    const client = fakeClient((method) => (method === 'PATCH' ? 403 : 200));
    const rep = await new Applier({ client, batchSize: 8 }).run(spoolOf(records));
    assert.ok(rep.fatal);
    assert.ok(client.log.filter((l) => l.method === 'PATCH').length <= 4, 'the 4 in flight, not the one queued');
    assert.ok(!client.log.some((l) => l.method === 'POST'));
  });

  test('stop(): the writes in flight finish, the one waiting for a slot is not sent', async () => {
    const held = [];
    const client = fakeClient(() => 200);
    const send = client.send;
    let holding = true;
    client.send = (...a) => (holding ? new Promise((r) => held.push(() => r(send(...a)))) : send(...a));
    const app = new Applier({ client, batchSize: 8 });
    const run = app.run(spoolOf(records));
    while (held.length < 4) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); // the fifth waits for a slot
    assert.equal(held.length, 4);
    app.stop('interrupted');
    holding = false;
    for (const release of held.splice(0)) release();
    const rep = await run;
    assert.equal(client.log.length, 4, client.log.map((l) => `${l.method} ${l.path}`).join(', '));
    assert.equal(rep.sent, 4);
    assert.ok(rep.stopped);
  });

  test('Pool: a task still waiting when the pool halts is dropped and its slot passes on', async () => {
    let halted = false;
    const pool = new Pool(1, () => halted);
    const ran = [];
    let release;
    await pool.submit(() => new Promise((r) => { release = () => { ran.push('a'); r(); }; }));
    const queued = pool.submit(async () => { ran.push('b'); });
    halted = true;
    release();
    await queued;
    await pool.drain();
    halted = false;
    await pool.submit(async () => { ran.push('c'); });
    await pool.drain();
    assert.deepEqual(ran, ['a', 'c']);
  });

  test('Pool: at most n at once, drain waits for all', async () => {
    const pool = new Pool(3);
    let active = 0;
    let most = 0;
    let done = 0;
    for (let i = 0; i < 10; i++) {
      await pool.submit(async () => {
        most = Math.max(most, ++active);
        await new Promise((r) => setTimeout(r, 2));
        active--;
        done++;
      });
    }
    await pool.drain();
    assert.equal(done, 10);
    assert.equal(most, 3);
  });
});

describe('progress.js', () => {
  test('plain lines off a terminal; one redrawn line on one', () => {
    const out = [];
    const stream = { write: (s) => out.push(s), isTTY: false };
    const c = fakeTime();
    const p = new Progress({ stream, now: c.now, stats: () => ({ requests: 12, limited: 1 }) });
    p.update({ phase: 'PATCH /users/{id}', done: 0, total: 100, unit: 'users' });
    c.t += 10000;
    p.update({ done: 50 });
    p.draw();
    assert.deepEqual(out, ['progress: PATCH /users/{id}: 50/100 users, 12 requests, 1 429s, ETA 10 s\n']);
    const tty = [];
    const q = new Progress({ stream: { write: (s) => tty.push(s), isTTY: true, columns: 80 }, now: c.now });
    q.draw();
    q.stop();
    assert.equal(tty[0], '\r\x1b[2Kstarting: 0 users, 0 requests, 0 429s');
    assert.equal(tty[1], '\r\x1b[2K');
  });
});
