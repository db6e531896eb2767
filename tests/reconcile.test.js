'use strict';
// npm run reconcile end to end: the real CLI (child process) and the real core
// (target/release/policy reconcile-plan) against a seeded emulator on 127.0.0.1. Dry run
// prints the plan and writes nothing; --apply converges and a second --apply sends no write;
// --max-changes refuses; --out and --sample; retraction leaves hand-granted roles alone;
// --source search and export plan alike; no secret or token in any output; policy explain
// --user. Faults: reconcile-faults.test.js; kills: reconcile-kill.test.js.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tenant, reconcile, run, scratch, writeCounts, total, snapshot, jsonl, POLICY, CORE } = require('./reconcile-helpers.js');
const { assertValidRequest } = require('./bulk-http.js');

const PREMIUM = 'rol_premium0000001';
const LEGACY = 'rol_legacyPremium01';

before(() => assert.ok(fs.existsSync(CORE), 'target/release/policy is missing: cargo build --release --features cli --bin policy'));

describe('reconcile against a seeded tenant (600 users)', () => {
  let t;
  let handGranted; // holders of Premium User whose plan is not premium: given by hand
  before(async () => {
    t = await tenant(600, { pending: 3 });
    handGranted = [...t.emu.users.scan()].map(([, u]) => u).filter((u) => u.roles.includes(PREMIUM) && u.app_metadata.plan !== 'premium').map((u) => u.user_id);
    assert.ok(handGranted.length >= 2, 'the seed has hand-granted Premium Users');
  });
  after(() => t.stop());

  let dry;
  test('a dry run prints the plan, writes --out and --sample, and changes nothing', async () => {
    const dir = scratch();
    const out = path.join(dir, 'plan.jsonl');
    const before = snapshot(t.emu);
    dry = await reconcile(['--policy', POLICY, '--out', out, '--sample', '2'], t.env);
    assert.equal(dry.status, 0, dry.stderr);
    assert.deepEqual(writeCounts(t.emu), {}, 'no write request at all');
    assert.deepEqual(snapshot(t.emu), before);
    assert.match(dry.stdout, /users read by GET \/users/);
    const m = /users scanned: 600; with changes: (\d+); changes: (\d+); errors: 0/.exec(dry.stdout);
    assert.ok(m, dry.stdout);
    for (const rule of ['premium-by-plan', 'legacy-out', 'google-tier', 'trial']) assert.match(dry.stdout, new RegExp(`^${rule} +\\d+ +\\d+ +\\d+ +\\d+ +\\d+$`, 'm'), rule);
    const lines = jsonl(out);
    assert.equal(lines.length, Number(m[1]));
    const changes = lines.reduce((n, l) => n + l.changes.length, 0);
    assert.equal(changes, Number(m[2]), 'the --out changes add up to the summary');
    for (const l of lines) {
      assert.equal(typeof l.user_id, 'string');
      assert.ok(l.changes.length > 0 && Array.isArray(l.rules) && typeof l.why === 'object');
    }
    assert.ok(lines.some((l) => l.changes.some((c) => c.phase === 4)), 'the pending markers give phase-4 writes');
    // --sample: the core's explanation of the first two users with changes.
    assert.match(dry.stdout, new RegExp(`^user ${lines[0].user_id.replace(/[|]/g, '\\|')}\\n(  .*\\n)+user ${lines[1].user_id.replace(/[|]/g, '\\|')}\\n`, 'm'));
    assert.match(dry.stdout, /requests --apply will send: \d+ write\(s\): \d+ DELETE \/users\/\{id\}\/roles, \d+ PATCH/);
    assert.match(dry.stdout, /time --apply will take: .*assumes each write bucket/);
    assert.match(dry.stdout, /dry run: nothing was changed/);
  });

  test('--apply refuses a plan over --max-changes, with the count, and changes nothing', async () => {
    const changes = Number(/; changes: (\d+);/.exec(dry.stdout)[1]);
    const r = await reconcile(['--policy', POLICY, '--apply', '--max-changes', String(changes - 1)], t.env);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`the plan has ${changes} changes, more than --max-changes ${changes - 1}: nothing was changed`));
    assert.deepEqual(writeCounts(t.emu), {});
  });

  test('--apply carries out exactly the minimum writes; a second --apply sends none', async () => {
    const min = Number(/requests --apply will send: (\d+) write/.exec(dry.stdout)[1]);
    const r = await reconcile(['--policy', POLICY, '--apply', '--max-changes', '100000'], t.env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /done: the tenant matches the plan/);
    assert.equal(total(writeCounts(t.emu)), min, `writes sent = the dry run's minimum: ${JSON.stringify(writeCounts(t.emu))}`);
    assert.match(r.stdout, new RegExp(`requests: ${min} write\\(s\\) sent for a minimum of ${min} \\(\\+0\\.0%\\)`));
    // Every request body we sent is one the OpenAPI description accepts.
    const templates = { 'DELETE /api/v2/users/{id}/roles': '/users/{id}/roles', 'PATCH /api/v2/users/{id}': '/users/{id}', 'POST /api/v2/roles/{id}/users': '/roles/{id}/users' };
    let checked = 0;
    for (const e of t.emu.requests) {
      if (!templates[e.route]) continue;
      assertValidRequest(templates[e.route], e.method, e.body);
      checked++;
    }
    assert.equal(checked, min);
    const again = await reconcile(['--policy', POLICY, '--apply'], t.env);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(total(writeCounts(t.emu)), min, 'the second run wrote nothing');
    assert.match(again.stdout, /users scanned: 600; with changes: 0; changes: 0/);
    // Converged: what the policy says holds for every user.
    for (const [, u] of t.emu.users.scan()) {
      if (u.app_metadata.plan === 'premium') assert.ok(u.roles.includes(PREMIUM), u.user_id);
      if (u.email_verified) assert.ok(!u.roles.includes(LEGACY), u.user_id);
      assert.ok(!('provisioning_pending' in u.app_metadata), u.user_id);
    }
  });

  test('retraction removes only what the policy granted, never a hand-granted role', async () => {
    for (const id of handGranted) assert.ok(t.emu.users.peek(id).roles.includes(PREMIUM), `${id} keeps its hand-granted role`);
    // A user the policy granted stops matching: the next run takes the role back; the
    // hand-granted ones (no record) still keep theirs.
    const granted = [...t.emu.users.scan()].map(([, u]) => u).find((u) => (u.app_metadata.provisioning_roles || []).includes('Premium User'));
    assert.ok(granted, 'some grant was recorded');
    const u = t.emu.users.get(granted.user_id);
    u.app_metadata = { ...u.app_metadata, plan: 'free' };
    const r = await reconcile(['--policy', POLICY, '--apply'], t.env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /DELETE \/users\/\{id\}\/roles: 1 request\(s\): 1 user\(s\)/);
    assert.ok(!t.emu.users.peek(granted.user_id).roles.includes(PREMIUM));
    assert.ok(!('provisioning_roles' in t.emu.users.peek(granted.user_id).app_metadata), 'and un-recorded');
    for (const id of handGranted) assert.ok(t.emu.users.peek(id).roles.includes(PREMIUM), `${id} keeps its hand-granted role`);
  });

  test('policy explain --user reads that user (read-only) and prints the core\'s explanation', async () => {
    const id = [...t.emu.users.scan()].map(([, x]) => x).find((x) => x.app_metadata.plan === 'premium').user_id;
    const writes = total(writeCounts(t.emu));
    const r = await run('policy.js', ['explain', POLICY, '--user', id], t.env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^user ${id.replace(/[|]/g, '\\|')}\\n`));
    assert.match(r.stdout, /premium-by-plan/);
    assert.match(r.stdout, /changes: 0/);
    assert.equal(total(writeCounts(t.emu)), writes);
    const missing = await run('policy.js', ['explain', POLICY, '--user', 'auth0|nobody'], t.env);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no user auth0\|nobody in the tenant/);
  });
});

describe('reading', () => {
  test('--source search and --source export give the same plan; auto takes the export above 1,000 users', async () => {
    const t = await tenant(900);
    const dir = scratch();
    try {
      const a = await reconcile(['--policy', POLICY, '--source', 'search', '--out', path.join(dir, 's.jsonl')], t.env);
      const b = await reconcile(['--policy', POLICY, '--source', 'export', '--out', path.join(dir, 'e.jsonl')], t.env);
      assert.equal(a.status, 0, a.stderr);
      assert.equal(b.status, 0, b.stderr);
      assert.match(b.stdout, /users read by a users-export job \(job_/);
      const job = t.emu.requests.find((e) => e.route === 'POST /api/v2/jobs/users-exports');
      assertValidRequest('/jobs/users-exports', 'POST', job.body);
      assert.deepEqual(jsonl(path.join(dir, 'e.jsonl')), jsonl(path.join(dir, 's.jsonl')));
      assert.ok(jsonl(path.join(dir, 's.jsonl')).length > 100);
      const table = (s) => s.slice(s.indexOf('users scanned'), s.indexOf('requests --apply'));
      assert.equal(table(b.stdout), table(a.stdout));
    } finally {
      await t.stop();
    }
    const big = await tenant(1500);
    try {
      const r = await reconcile(['--policy', POLICY], big.env);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /users read by a users-export job/);
      assert.match(r.stdout, /users scanned: 1500;/);
      assert.equal(big.emu.routeStats()['GET /api/v2/users'].requests, 1, 'one page to learn the total, then the export');
      const refused = await reconcile(['--policy', POLICY, '--source', 'search'], big.env);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /has 1500 users and GET \/users reaches only the first 1000: use --source export/);
      // --max-changes is 1000 unless given: a key for every user is 1500 changes.
      const everyone = path.join(dir, 'everyone.json');
      fs.writeFileSync(everyone, JSON.stringify({ rules: [{ name: 'all', when: { not: { email_domain: 'nowhere.invalid' } }, set_user_metadata: { seen: true } }] }));
      const byDefault = await reconcile(['--policy', everyone, '--apply'], big.env);
      assert.equal(byDefault.status, 1, byDefault.stderr);
      assert.match(byDefault.stderr, /the plan has 1500 changes, more than --max-changes 1000: nothing was changed/);
      assert.deepEqual(writeCounts(big.emu), {});
    } finally {
      await big.stop();
    }
  });
});

describe('configuration and output hygiene', () => {
  test('no secret and no token in any output, even --verbose with retries', async () => {
    const t = await tenant(300);
    try {
      t.emu.injectFault({ method: 'GET', path: '/api/v2/users', status: 503, times: 2 });
      const r = await reconcile(['--policy', POLICY, '--verbose', '--sample', '3'], t.env);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /HTTP 503; retrying/);
      const tokens = [...t.emu.tokens.keys()];
      assert.ok(tokens.length >= 1);
      for (const s of [t.secret, ...tokens]) {
        assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), 'a secret or token leaked');
      }
      const bad = await reconcile(['--policy', POLICY], { ...t.env, AUTH0_CLIENT_SECRET: `${t.secret}x` });
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /check AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET/);
      assert.ok(!bad.stderr.includes(t.secret));
    } finally {
      await t.stop();
    }
  });

  test('usage and configuration mistakes fail before any request, clearly', async () => {
    const cases = [
      [[], {}, 2, /--policy FILE is required/],
      [['--policy', POLICY, '--source', 'csv'], {}, 2, /--source must be auto, search or export/],
      [['--policy', POLICY, '--batch-size', '0'], {}, 2, /--batch-size must be a whole number from 1 to 1000/],
      [['--policy', POLICY, '--max-changes', '-1'], {}, 2, /--max-changes needs a value|--max-changes must be/],
      [['--policy', POLICY], { AUTH0_DOMAIN: '' }, 1, /AUTH0_DOMAIN is not set/],
      [['--policy', POLICY], { AUTH0_DOMAIN: 'http://tenant.example.com' }, 1, /AUTH0_DOMAIN/],
      [['--policy', '/nonexistent.json'], { AUTH0_DOMAIN: 'http://127.0.0.1:9' }, 1, /no such file/],
    ];
    for (const [args, env, status, re] of cases) {
      const r = await reconcile(args, { AUTH0_DOMAIN: 'http://127.0.0.1:9', AUTH0_CLIENT_ID: 'x', AUTH0_CLIENT_SECRET: 'not-a-real-secret', ...env });
      assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    const help = await reconcile(['--help'], {});
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--batch-size N +users per POST \/roles\/\{id\}\/users \(default 100/);
  });

  test('a role the policy names that the tenant lacks is an error before anything is read', async () => {
    const t = await tenant(50);
    const dir = scratch();
    try {
      const policy = path.join(dir, 'p.json');
      fs.writeFileSync(policy, JSON.stringify({ rules: [{ name: 'x', when: { email_verified: true }, assign_roles: ['premium user'] }] }));
      const r = await reconcile(['--policy', policy], t.env);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /no role is named "premium user" \(differs by case or whitespace: "Premium User"\)/);
      assert.equal(t.emu.routeStats()['GET /api/v2/users'], undefined, 'no user was read');
    } finally {
      await t.stop();
    }
  });
});
