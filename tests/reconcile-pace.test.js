'use strict';
// pace.js's refill model: an empty class waits for half its bucket at the refill rate the
// replies prove (never more than the truth), and against a simulated Auth0 bucket that
// gets within a few percent of the rate-limit bound with no 429, where waiting for the
// reset second (the full bucket) idles. Fake clocks throughout: deterministic and fast.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { Pacer } = require('../pkg-scripts/reconcile/pace.js');
const { TokenBucket } = require('../pkg-scripts/emulator/ratelimit.js');

const START = 1_700_000_000_000; // a whole second: Date headers are exact at first

function fakeTime(start = START) {
  const c = { t: start, slept: [] };
  c.now = () => c.t;
  c.sleep = async (ms) => { c.slept.push(ms); c.t += ms; };
  return c;
}
const headers = (o) => new Headers(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)])));
const date = (ms) => new Date(Math.floor(ms / 1000) * 1000).toUTCString();

describe('the refill model', () => {
  test('an empty class waits until half the bucket is back at the proven rate, then sends that half at once', async () => {
    for (const [refillTo, expectWaitMs, expectBurst] of [[0.5, (10 / (19 / 3)) * 1000, 10], [1, 3000 + 50, 20]]) {
      const c = fakeTime();
      const p = new Pacer({ now: c.now, sleep: c.sleep, refillTo });
      // Warm the clock on exact replies: the offset is then known to the millisecond.
      for (let i = 0; i < 3; i++) p.release('token', { headers: headers({ date: date(c.t) }), sentMs: c.t });
      await p.acquire('users-write');
      // Drained: full again at START + 3 s, so it refills ≥ (20 − 0 − 1) / 3 s.
      p.release('users-write', { status: 200, sentMs: c.t, headers: headers({ date: date(c.t), 'x-ratelimit-limit': 20, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': START / 1000 + 3 }) });
      assert.ok(Math.abs(p.tracker('users-write').rate - 19 / 3) < 1e-9, `rate ${p.tracker('users-write').rate}`);
      await p.acquire('users-write');
      assert.equal(c.slept.length, 1, `refillTo ${refillTo}: one wait`);
      assert.ok(Math.abs(c.slept[0] - expectWaitMs) < 600, `refillTo ${refillTo}: waited ${c.slept[0]} ms, expected about ${expectWaitMs}`);
      for (let i = 1; i < expectBurst; i++) await p.acquire('users-write');
      assert.equal(c.slept.length, 1, `refillTo ${refillTo}: ${expectBurst} at once`);
      let next = false;
      const pending = p.acquire('users-write').then(() => { next = true; });
      await new Promise((r) => setImmediate(r));
      assert.equal(next, false, `refillTo ${refillTo}: request ${expectBurst + 1} waits for a reply`);
      for (let i = 0; i < expectBurst; i++) p.release('users-write', { status: 200, headers: null });
      await pending;
    }
  });

  test('the rate the replies prove never exceeds the true refill rate', () => {
    const c = fakeTime();
    const p = new Pacer({ now: c.now, sleep: c.sleep });
    const t = p.tracker('users-read');
    // 25 tokens a second, 30 requests in 1 s drawing a bucket of 40 from 10 down to 5.
    let remaining = 10;
    for (let i = 0; i <= 30; i++) {
      if (i) {
        c.t += 1000 / 30;
        remaining += 25 / 30 - 1;
      }
      p.release('users-read', { status: 200, sentMs: c.t - 1, headers: headers({ 'x-ratelimit-limit': 40, 'x-ratelimit-remaining': Math.floor(remaining) }) });
    }
    assert.ok(t.rate > 18 && t.rate <= 25, `proven ${t.rate}/s of a true 25/s`);
    // A bucket seen full proves nothing (its refill was wasted): the window starts again.
    p.release('users-read', { status: 200, sentMs: c.t, headers: headers({ 'x-ratelimit-limit': 40, 'x-ratelimit-remaining': 39 }) });
    assert.equal(t.anchor.remaining, 39);
  });

  test('a 429 halves the rate the model trusts', async () => {
    const c = fakeTime();
    const p = new Pacer({ now: c.now, sleep: c.sleep });
    const t = p.tracker('users-write');
    t.rate = 10;
    p.release('users-write', { status: 429, headers: headers({ 'x-ratelimit-limit': 20, 'x-ratelimit-remaining': 0 }), retryAfterMs: 1000 });
    assert.equal(t.trust, 0.5);
    // Retry-After (1 s: 5 tokens back at the trusted 5/s), then until half the bucket is back.
    await p.acquire('users-write');
    assert.ok(Math.abs(c.t - START - 2000) <= 2, `waited ${c.t - START} ms`);
  });
});

/**
 * `n` requests one after another (no latency) against an emulated Auth0 bucket on the fake
 * clock: {seconds, limited}. Each reply carries the bucket's headers and a Date header.
 */
async function simulate(bucketSpec, n, pacerOpts) {
  const c = fakeTime(START + 123); // off the second: the clock has to be learnt
  const bucket = new TokenBucket(bucketSpec, c.now);
  const p = new Pacer({ now: c.now, sleep: c.sleep, ...pacerOpts });
  let limited = 0;
  for (let done = 0; done < n;) {
    const sent = await p.acquire('users-write');
    c.t += 1; // a millisecond on the wire
    const ok = bucket.take();
    const h = headers({ date: date(c.t), ...bucket.headers() });
    if (ok) done++;
    else limited++;
    p.release('users-write', { status: ok ? 200 : 429, headers: h, sentMs: sent, retryAfterMs: ok ? null : bucket.retryAfter() * 1000 });
  }
  return { seconds: (c.t - START - 123) / 1000, limited };
}

describe('against an emulated bucket', () => {
  // Essentials' write-users row (burst 20, 200/min) at real speed and at ×20, the bench's speed.
  for (const [speed, n] of [[1, 400], [20, 3000]]) {
    test(`write-users ×${speed}: half-bucket pacing near the bound, no 429; the full-bucket wait is slower`, async () => {
      const spec = { burst: 20, perSecond: (200 / 60) * speed };
      const bound = (n - spec.burst) / spec.perSecond;
      const half = await simulate(spec, n, {});
      const full = await simulate(spec, n, { refillTo: 1 });
      console.log(`# ×${speed}: ${n} requests, bound ${bound.toFixed(1)} s: half ${half.seconds.toFixed(1)} s (${half.limited} 429s), full bucket ${full.seconds.toFixed(1)} s (${full.limited} 429s)`);
      assert.equal(half.limited, 0, 'no 429');
      assert.ok(half.seconds <= bound * 1.1, `half: ${half.seconds} s for a bound of ${bound} s`);
      assert.ok(half.seconds >= bound * 0.99, 'not faster than the bucket allows (the simulation is honest)');
      assert.ok(full.seconds > half.seconds, 'waiting for the full bucket is slower');
    });
  }
});
