'use strict';
// Pacing on the Management API's own rate-limit headers, so a long --apply stays under the
// tenant's limits instead of bouncing off them (429s). Auth0 limits are token buckets per
// endpoint class (the plan pages' rows; an API-wide bucket on some plans), and every reply
// carries the bucket it drew from: x-ratelimit-limit (bucket size), -remaining, -reset (UTC
// epoch second when the bucket is full again). We keep one tracker per endpoint class we
// send to, fed by that class's replies: a class never draws on what another class's replies
// said (their buckets may differ), and a class sharing a bucket with another still sees it
// drain in its own replies.
//
// The rule: a request goes out while the bucket's modelled content − requests in flight ≥ 1.
// The model is the last reply's remaining plus what the bucket refilled since at a rate the
// replies prove (a lower bound, see Tracker.observe), capped at the bucket size. Once the
// model is empty the class waits until HALF the bucket is back, then sends that half at once
// (replies on the way correct the model). Why half, not one token at a time or the full
// bucket: sending at the edge (one token back, one request) turns every error of the model
// into a 429; waiting for the full bucket — the reset second — idles while the bucket sits
// full (and the reset is rounded up to a whole second: at a fast refill most of the wait);
// at half the bucket never overflows, so no refill is wasted, and the model may be off by
// half a bucket before a 429. Without a known rate the class waits for the reset second,
// on the server's clock (estimated from the Date headers). A 429 blocks its class until
// Retry-After (or the reset) and halves the rate the model trusts.

/** The endpoint class of a request: the buckets the plan pages name, as far as we send. */
function endpointClass(method, pathname) {
  const p = pathname.replace(/^\/api\/v2/, '');
  if (p === '/oauth/token' || pathname === '/oauth/token') return 'token';
  if (/^\/users(\/|$)/.test(p)) return method === 'GET' ? 'users-read' : 'users-write';
  if (/^\/roles\/[^/]+\/users$/.test(p)) return method === 'GET' ? 'role-members-read' : 'role-members-write';
  if (/^\/roles(\/|$)/.test(p)) return 'roles-read';
  // Organizations: the plan pages give the member writes, member-role writes and name look-ups
  // buckets of their own (Enterprise: 20 burst / 200 per minute for member writes).
  if (/^\/organizations\/[^/]+\/members\/[^/]+\/roles$/.test(p)) return 'org-member-roles';
  if (/^\/organizations\/[^/]+\/members$/.test(p)) return method === 'GET' ? 'org-members-read' : 'org-members-write';
  if (/^\/organizations\/name\/[^/]+$/.test(p)) return 'org-by-name';
  if (/^\/organizations(\/|$)/.test(p)) return 'orgs-read';
  if (/^\/jobs(\/|$)/.test(p)) return 'jobs';
  return 'other';
}

/**
 * The server's clock relative to ours, from Date headers (whole seconds): each reply bounds
 * the offset (server − local) to [date − received, date + 1 − sent); the intersection of
 * all replies narrows it. A contradiction (a clock jump) starts over.
 */
class ServerClock {
  constructor() {
    this.lo = -Infinity;
    this.hi = Infinity;
  }
  observe(dateHeader, sentMs, receivedMs) {
    const d = Date.parse(dateHeader || '');
    if (Number.isNaN(d)) return;
    const lo = d - receivedMs;
    const hi = d + 1000 - sentMs;
    if (Math.max(lo, this.lo) > Math.min(hi, this.hi)) {
      this.lo = lo;
      this.hi = hi;
    } else {
      this.lo = Math.max(lo, this.lo);
      this.hi = Math.min(hi, this.hi);
    }
  }
  /** Milliseconds to add to a local time to get the server's (0 before any reply). */
  get offset() {
    if (!Number.isFinite(this.lo) || !Number.isFinite(this.hi)) return 0;
    return (this.lo + this.hi) / 2;
  }
}

const int = (v) => (v !== null && v !== undefined && /^\s*\d+\s*$/.test(String(v)) ? Number(v) : null);

/** One endpoint class's view of its bucket. */
class Tracker {
  constructor(name) {
    this.name = name;
    this.limit = null; // from the last reply with headers
    this.remaining = null;
    this.remainingAt = 0; // local time the last reply with headers came in
    this.resetMs = null; // server clock
    this.inflight = 0;
    this.maxInflight = 0;
    this.answered = 0; // replies (or failures) so far
    this.blockedUntil = 0; // local clock: a 429's wait
    this.waiters = [];
    this.samples = 0;
    this.best = null; // the reply that says most about the refill rate (see rate())
    this.minRemaining = Infinity;
    this.first = null; // {at, remaining}: the first reply with headers
    this.last = null;
    this.replies = 0; // replies with headers after the first
    this.limited = 0;
    this.rate = null; // tokens per second the replies prove the bucket refills at least
    this.anchor = null; // {sentMs, remaining, counted}: the start of the throughput window
    this.counted = 0; // replies that drew a token (not 429s), for the window
    this.refilling = false; // the model ran empty: waiting until half the bucket is back
    this.trust = 1; // the share of `rate` the model uses: halved by each 429
  }
  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Tokens the model says the bucket holds at local time `now`, less those in flight. */
  available(now) {
    if (this.remaining === null) return Infinity;
    const refilled = this.rate ? (this.rate * this.trust * Math.max(0, now - this.remainingAt)) / 1000 : 0;
    return Math.min(this.limit, this.remaining + refilled) - this.inflight;
  }

  /**
   * Raises `rate` to what a reply proves (both bounds err low, so the model never holds more
   * than the bucket): (1) the reset second: the bucket is full by then, so it refills at
   * least (missing − 1: remaining is rounded down) ÷ (reset − the earliest server time the
   * reply may have been made at); (2) throughput since the window's start: requests the
   * server counted minus what the bucket lost is what it refilled at least (less one per
   * request that may have been counted out of order, and one for the rounding), over the
   * longest the window can have lasted. A reply with the bucket (almost) full restarts the
   * window: time spent full refills nothing.
   */
  observe({ limit, remaining, resetMs, sentMs, now, serverLo, status }) {
    if (status !== 429) this.counted++;
    if (resetMs !== null && Number.isFinite(serverLo)) {
      const missing = limit - remaining - 1;
      const seconds = (resetMs - (sentMs + serverLo)) / 1000;
      if (missing >= 1 && seconds > 0) this.raise(missing / seconds);
    }
    if (!this.anchor || remaining >= limit - 1 - this.inflight) {
      this.anchor = { sentMs, remaining, counted: this.counted };
      return;
    }
    const seconds = (now - this.anchor.sentMs) / 1000;
    const refilled = this.counted - this.anchor.counted - (this.anchor.remaining - remaining) - 1 - this.maxInflight;
    if (seconds >= 0.2 && refilled >= 1) this.raise(refilled / seconds);
  }

  raise(r) {
    if (Number.isFinite(r) && r > 0 && (this.rate === null || r > this.rate)) this.rate = r;
  }
}

class Pacer {
  /**
   * @param {object} [o] now, sleep (for tests); marginMs: added to every wait on a reset
   *   second (default 50: the bucket refills at the second, our clock estimate is not exact);
   *   refillTo: the share of the bucket an empty class waits for (default 0.5; 1 waits for
   *   the reset second, the pacing before the model)
   */
  constructor(o = {}) {
    this.now = o.now || Date.now;
    this.sleep = o.sleep || ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.marginMs = o.marginMs === undefined ? 50 : o.marginMs;
    this.refillTo = o.refillTo === undefined ? 0.5 : o.refillTo;
    if (!(this.refillTo > 0 && this.refillTo <= 1)) throw new RangeError('refillTo must be in (0, 1]');
    this.clock = new ServerClock();
    this.trackers = new Map();
    this.waitedMs = 0;
  }

  tracker(cls) {
    if (!this.trackers.has(cls)) this.trackers.set(cls, new Tracker(cls));
    return this.trackers.get(cls);
  }

  /** Local time at which the server's clock shows `serverMs`. */
  localAt(serverMs) {
    return serverMs - this.clock.offset;
  }

  /** Waits until a request of class `cls` may go; counts it in flight. Returns the start time. */
  async acquire(cls) {
    if (cls === 'token') return this.now();
    const t = this.tracker(cls);
    for (;;) {
      const now = this.now();
      if (t.blockedUntil > now) {
        await this.wait(t.blockedUntil - now);
        continue;
      }
      // A class not heard from yet sends one request and waits for its reply: it may share a
      // bucket (an API-wide one) that the other classes' replies already show drained.
      const blind = t.remaining === null && t.answered === 0 && t.inflight > 0;
      const avail = t.available(now);
      const target = t.limit === null ? 1 : Math.max(1, Math.floor(t.limit * this.refillTo));
      if (t.refilling && avail >= target) t.refilling = false;
      if (!blind && !t.refilling && avail >= 1) {
        t.inflight++;
        t.maxInflight = Math.max(t.maxInflight, t.inflight);
        return now;
      }
      if (!blind) t.refilling = true;
      // The reset second: the bucket is full then, whatever the model says.
      const full = t.resetMs === null ? null : this.localAt(t.resetMs) + this.marginMs;
      // Whole milliseconds, at least one: a wait rounded to nothing would spin.
      const byModel = t.rate && Number.isFinite(avail) ? now + Math.max(1, Math.ceil(((target - avail) / (t.rate * t.trust)) * 1000)) : null;
      const until = full === null && byModel === null ? now + 1000 : Math.min(full === null ? Infinity : full, byModel === null ? Infinity : byModel);
      if (t.inflight > 0) {
        // A reply on its way says more than any guess: wait for it (or the model's time, or a
        // second, whichever first).
        await new Promise((resolve) => {
          t.waiters.push(resolve);
          setTimeout(resolve, Math.max(0, Math.min(1000, until - now))).unref();
        });
        continue;
      }
      if (until > now) await this.wait(until - now);
      if (full !== null && this.now() >= full) {
        // The bucket is full at its reset second.
        t.remaining = t.limit;
        t.remainingAt = this.now();
        t.resetMs = null;
      } else if (byModel === null && full === null) {
        t.remaining = t.limit; // nothing known: a second's wait, then one try (a 429 says more)
        t.remainingAt = this.now();
      }
    }
  }

  async wait(ms) {
    this.waitedMs += ms;
    await this.sleep(ms);
  }

  /**
   * A reply (or a failure: headers null) of a request acquire()d at `sentMs`. A 429 blocks the
   * class until `retryAfterMs` (when given) or the reset second.
   */
  release(cls, { status = 0, headers = null, sentMs = this.now(), retryAfterMs = null } = {}) {
    if (cls === 'token') {
      if (headers) this.clock.observe(headers.get('date'), sentMs, this.now());
      return;
    }
    const t = this.tracker(cls);
    t.inflight = Math.max(0, t.inflight - 1);
    t.answered++;
    const now = this.now();
    if (headers) {
      this.clock.observe(headers.get('date'), sentMs, now);
      const limit = int(headers.get('x-ratelimit-limit'));
      const remaining = int(headers.get('x-ratelimit-remaining'));
      const reset = int(headers.get('x-ratelimit-reset'));
      if (limit !== null && remaining !== null) {
        t.limit = limit;
        t.remaining = remaining;
        t.remainingAt = now;
        t.resetMs = reset === null ? null : reset * 1000;
        t.samples++;
        t.minRemaining = Math.min(t.minRemaining, remaining);
        this.note(t, limit, remaining, reset, now);
        t.observe({ limit, remaining, resetMs: t.resetMs, sentMs, now, serverLo: this.clock.lo, status });
        if (!t.first) t.first = { at: now, remaining };
        else {
          t.replies++;
          t.last = { at: now, remaining };
        }
      }
    }
    if (status === 429) {
      t.limited++;
      t.remaining = 0;
      t.remainingAt = now;
      // The model was wrong (another client on the bucket, a bucket shared across classes
      // drained it between our replies): trust half as much of the rate from now on.
      t.trust = Math.max(1 / 16, t.trust / 2);
      t.anchor = null;
      t.refilling = true;
      const resetLocal = t.resetMs === null ? null : this.localAt(t.resetMs) + this.marginMs;
      const until = retryAfterMs !== null ? now + retryAfterMs : resetLocal !== null && resetLocal > now ? resetLocal : now + 1000;
      t.blockedUntil = Math.max(t.blockedUntil, until);
    }
    t.wake();
  }

  /** Keeps the reply that bounds the refill rate best: most tokens missing, reset furthest away. */
  note(t, limit, remaining, reset, now) {
    if (reset === null) return;
    const missing = limit - remaining;
    const seconds = reset - (now + this.clock.offset) / 1000;
    if (missing < 1 || seconds <= 0) return;
    if (!t.best || seconds > t.best.seconds) t.best = { limit, missing, seconds };
  }

  /**
   * What the replies of class `cls` say about its bucket: {limit, perSecond, measured}, or
   * null without rate-limit headers. The refill rate is missing tokens / seconds to the reset,
   * from the reply with the reset furthest away (the whole-second reset is exact to ±1 s, so
   * `measured` is false when that is under 2 s: the rate is then only a lower bound, the
   * better of that and the refill the reads' own throughput proves).
   */
  bucket(cls) {
    const t = this.trackers.get(cls);
    if (!t || t.limit === null) return null;
    // Requests sent minus what the bucket lost is what it refilled at least (a full bucket
    // wastes its refill): a lower bound on the rate, good when the reads ran steadily.
    let floor = null;
    if (t.last && t.last.at - t.first.at >= 200) {
      const refilled = t.replies - (t.first.remaining - t.last.remaining);
      if (refilled > 0) floor = refilled / ((t.last.at - t.first.at) / 1000);
    }
    let fromReset = null;
    let measured = false;
    if (t.best) {
      const { missing, seconds } = t.best;
      fromReset = missing / Math.max(seconds - 0.5, 0.5);
      measured = seconds >= 2;
    }
    const perSecond = measured ? fromReset : Math.max(fromReset || 0, floor || 0) || null;
    return { limit: t.limit, perSecond, measured };
  }

  /** 429s answered per class. */
  limitedCounts() {
    return Object.fromEntries([...this.trackers].map(([k, t]) => [k, t.limited]));
  }
}

/**
 * Seconds `n` requests take on a bucket {limit, perSecond} starting full: the burst goes at
 * once, the rest at the refill rate. null when the rate is unknown.
 */
function secondsFor(n, b) {
  if (!n) return 0;
  if (!b || !b.perSecond) return null;
  return Math.max(0, n - b.limit) / b.perSecond;
}

module.exports = { Pacer, ServerClock, endpointClass, secondsFor };
