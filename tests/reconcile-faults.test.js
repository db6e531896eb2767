'use strict';
// reconcile --apply when the tenant misbehaves: users deleted mid-run (404 → "user gone"; a
// batch answered 404 is bisected, the others still get the role), 409 (reported, exit 1, a
// rerun finishes), 5xx and timeouts (retried), 429s (waited out), and a rate-limited tenant
// (per-endpoint buckets) where pacing keeps 429s ≤ 1% and the writes within 5% of the minimum.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { tenant, reconcile, scratch, writeCounts, total, limitedStats, jsonl, isWrite, POLICY } = require('./reconcile-helpers.js');

const APPLY = ['--policy', POLICY, '--apply', '--max-changes', '100000'];
const TRIAL = 'rol_trialUser00001';

/** The dry run's plan (--out) and minimum writes. */
async function dryRun(t) {
  const out = path.join(scratch(), 'plan.jsonl');
  const r = await reconcile(['--policy', POLICY, '--out', out], t.env);
  assert.equal(r.status, 0, r.stderr);
  return { plan: jsonl(out), min: Number(/requests --apply will send: (\d+) write/.exec(r.stdout)[1]) };
}
const has = (line, phase, kind) => line.changes.some((c) => c.phase === phase && (!kind || c.kind === kind));

test('users deleted mid-run are "gone", not failures; a batch answered 404 is split and the rest assigned', async () => {
  const t = await tenant(600);
  try {
    const { plan } = await dryRun(t);
    const patched = plan.filter((l) => has(l, 2)).at(-1).user_id; // its PATCH comes late in phase 2
    const trialUsers = plan.filter((l) => l.changes.some((c) => c.kind === 'assign_role' && c.role_id === TRIAL) && !has(l, 2)).map((l) => l.user_id);
    assert.ok(trialUsers.length >= 10, 'a trial batch to split');
    const inBatch = trialUsers[Math.floor(trialUsers.length / 2)];
    let armed = true;
    t.emu.onRequest = (e) => {
      if (armed && isWrite(e)) {
        armed = false;
        t.emu.deleteUser(patched);
        t.emu.deleteUser(inBatch);
      }
    };
    const r = await reconcile(APPLY, t.env);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /users gone: 2; failures: 0/);
    const splits = Number(/batches split: (\d+)/.exec(r.stdout)[1]);
    assert.ok(splits >= 1 && splits <= 8, `bisected down to the one gone user (${splits} splits)`);
    for (const id of trialUsers) if (id !== inBatch) assert.ok(t.emu.users.peek(id).roles.includes(TRIAL), `${id} got the role despite the gone user in its batch`);
    assert.match(r.stdout, /done: the tenant matches the plan \(2 user\(s\) deleted meanwhile\)/);
    t.emu.onRequest = null;
    const again = await reconcile(APPLY, t.env);
    assert.match(again.stdout, /with changes: 0;/, 'nothing left to do');
  } finally {
    await t.stop();
  }
});

test('409 is reported (exit 1) and that user\'s later phases wait for the rerun; 5xx, timeouts and 429s are retried', async () => {
  const t = await tenant(400);
  try {
    const { plan, min } = await dryRun(t);
    // A user with a PATCH and a grant: its grant must not go out after its PATCH failed.
    const victim = plan.find((l) => has(l, 2) && has(l, 3));
    assert.ok(victim, 'a user with phases 2 and 3');
    const enc = encodeURIComponent(victim.user_id).replace(/[|]/g, '\\|');
    t.emu.injectFault({ method: 'PATCH', path: new RegExp(`/users/${enc.replace(/%7C/gi, '(%7C|\\|)')}$`), status: 409, times: Infinity });
    t.emu.injectFault({ method: 'PATCH', status: 503, times: 2 });
    t.emu.injectFault({ method: 'DELETE', mode: 'hang', times: 1 });
    t.emu.injectFault({ method: 'POST', path: /\/roles\/[^/]+\/users$/, status: 429, times: 1, headers: { 'retry-after': '1' } });
    const r = await reconcile(APPLY, { ...t.env, RECONCILE_TIMEOUT_MS: '700' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`failed: ${victim.user_id.replace(/[|]/g, '\\|')}: PATCH /api/v2/users/[^:]+: HTTP 409`));
    assert.match(r.stdout, /failures: 1$/m);
    const retried = Number(/retried (\d+) \(429s: (\d+)\)/.exec(r.stdout)[1]);
    assert.ok(retried >= 4, `503 ×2, the hung DELETE, the 429 and the 409s were retried where they may be (${retried})`);
    assert.match(r.stdout, /\(429s: 1\)/);
    assert.match(r.stderr, /1 change\(s\) failed/);
    const roles = t.emu.users.peek(victim.user_id).roles;
    for (const c of victim.changes.filter((x) => x.phase === 3)) assert.ok(!roles.includes(c.role_id), 'no grant after the failed PATCH');
    assert.ok(total(writeCounts(t.emu)) <= min + 8, `few extra writes: ${total(writeCounts(t.emu))} for ${min}`);
    // The fault gone, the rerun finishes exactly that user.
    t.emu.clearFaults();
    const again = await reconcile(APPLY, t.env);
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /with changes: 1;/);
    const last = await reconcile(APPLY, t.env);
    assert.match(last.stdout, /with changes: 0;/);
  } finally {
    await t.stop();
  }
});

for (const [profile, speed] of [['essentials', 40], ['enterprise-nonprod', 25]]) {
  test(`a rate-limited tenant (${profile} buckets ×${speed}): ≤ 1% answered 429, writes within 5% of the minimum`, async () => {
    const t = await tenant(700, { rateProfile: profile, rateSpeed: speed, pending: 4 });
    try {
      const { min } = await dryRun(t);
      const before = limitedStats(t.emu);
      const r = await reconcile(APPLY, t.env);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const after = limitedStats(t.emu);
      const requests = after.requests - before.requests;
      const limited = after.limited - before.limited;
      const writes = total(writeCounts(t.emu));
      assert.ok(limited <= requests * 0.01, `${limited} of ${requests} requests answered 429`);
      assert.ok(writes <= min * 1.05 && writes >= min, `${writes} writes for a minimum of ${min}`);
      assert.match(r.stdout, new RegExp(`requests: ${writes} write\\(s\\) sent for a minimum of ${min}`));
      console.log(`# ${profile} ×${speed}: ${writes} writes for a minimum of ${min}; ${limited} of ${requests} requests answered 429`);
    } finally {
      await t.stop();
    }
  });
}
