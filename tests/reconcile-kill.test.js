'use strict';
// Never lose, never double: reconcile --apply SIGKILLed at random moments (while reading, and
// at the k-th write for random k, so across the phases), then run again until a run finishes.
// The tenant must end exactly as an uninterrupted run leaves an identically seeded one, a
// further run must send no write, and no rerun may send a write that changes nothing beyond
// the ones in flight when its predecessor died (4 at most). KILL_SEED=N replays a sequence.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { tenant, reconcile, writeCounts, total, snapshot, watchWrites, isWrite, POLICY } = require('./reconcile-helpers.js');

const APPLY = ['--policy', POLICY, '--apply', '--max-changes', '100000'];
const USERS = 500;
const IN_FLIGHT = 4;

const { prng } = require('../pkg-scripts/emulator/seed.js');

test('SIGKILL at random moments of --apply, rerun: the same tenant as one uninterrupted run, and no write twice', async () => {
  const seed = Number(process.env.KILL_SEED) || (Date.now() % 1000000);
  const random = prng(seed);
  console.log(`# KILL_SEED=${seed}`);

  const ref = await tenant(USERS, { pending: 3 });
  const t = await tenant(USERS, { pending: 3 });
  try {
    assert.deepEqual(snapshot(t.emu), snapshot(ref.emu), 'identical seeds');
    const whole = await reconcile(APPLY, ref.env);
    assert.equal(whole.status, 0, whole.stderr);
    const minimum = total(writeCounts(ref.emu));
    assert.ok(minimum > 200, `enough writes to kill in the middle of (${minimum})`);
    const expected = snapshot(ref.emu);

    const w = watchWrites(t.emu);
    const rounds = [];
    // One kill while reading (no write yet), then kills at the k-th write of each run.
    const readKill = await reconcile(APPLY, t.env, { onSpawn: (c) => setTimeout(() => c.kill('SIGKILL'), 150 + random() * 400) });
    rounds.push({ k: 'reading', signal: readKill.signal, writes: w.writes, noop: w.noop });
    let left = minimum - w.writes;
    for (let round = 0; round < 6; round++) {
      const k = 1 + Math.floor(random() * Math.max(1, left - 1));
      const start = { writes: w.writes, noop: w.noop };
      let n = 0;
      let child = null;
      t.emu.onRequest = (e) => { if (isWrite(e) && ++n === k && child) child.kill('SIGKILL'); };
      const r = await reconcile(APPLY, t.env, { onSpawn: (c) => { child = c; } });
      t.emu.onRequest = null;
      rounds.push({ k, signal: r.signal, status: r.status, writes: w.writes - start.writes, noop: w.noop - start.noop });
      if (r.status === 0) break; // it finished before its k-th write
      assert.equal(r.signal, 'SIGKILL', r.stderr);
      left -= w.writes - start.writes;
      if (left <= 1) break;
    }
    // Then a run that is not killed finishes, exactly at its own minimum.
    const last = await reconcile(APPLY, t.env);
    assert.equal(last.status, 0, last.stdout + last.stderr);
    const lastMin = Number(/requests --apply will send: (\d+) write/.exec(last.stdout)[1]);
    assert.match(last.stdout, new RegExp(`requests: ${lastMin} write\\(s\\) sent for a minimum of ${lastMin}`));
    console.log(`# rounds: ${JSON.stringify(rounds)}; last run: ${lastMin} writes; writes in all: ${w.writes} for an uninterrupted ${minimum}; no-op writes: ${w.noop} ${JSON.stringify(w.noops)}`);

    assert.deepEqual([...snapshot(t.emu)].filter(([id, s]) => expected.get(id) !== s), [], 'every user as the uninterrupted run left it');
    const kills = rounds.filter((x) => x.signal === 'SIGKILL').length;
    assert.ok(kills >= 2, `killed at least twice (${kills})`);
    assert.ok(w.noop <= IN_FLIGHT * kills, `writes that changed nothing: ${w.noop} (at most the ${IN_FLIGHT} in flight per kill)`);
    assert.ok(w.writes <= minimum + IN_FLIGHT * kills, `${w.writes} writes in all for ${minimum}: nothing redone beyond what was in flight`);

    const after = w.writes;
    const again = await reconcile(APPLY, t.env);
    assert.equal(again.status, 0);
    assert.equal(w.writes, after, 'a run on the finished tenant sends no write');
  } finally {
    await t.stop();
    await ref.stop();
  }
});
