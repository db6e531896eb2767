'use strict';
// The Management API client of reconcile: deploy/client.js's Management (token request,
// error messages that say what to fix, secret redaction) with a send() for long runs:
// every request waits for the pacer (pace.js) and reports its reply to it; 429s wait and
// retry without a small attempt cap (the pacer keeps them rare); 5xx, network errors and
// timeouts retry with a bounded backoff. A run can outlive its token (a client-credentials
// token lives `expires_in` seconds, 24 h by default, and a 1M-user apply on a Free plan takes
// longer): it is renewed before it expires, and a 401 gets one fresh token too (a token
// revoked, a clock off). No per-request log is kept (a million-user run): only counts.
const { Management, ApiError, backoffMs, retryAfterMs, exchange } = require('../deploy/client.js');
const { Pacer, endpointClass } = require('./pace.js');

const DEFAULT_TIMEOUT_MS = 30000;
const MAX_FAILURE_ATTEMPTS = 5; // 5xx / network / timeout: first try + 4 retries
const MAX_429_ATTEMPTS = 30;
const MAX_429_WAIT_MS = 120000;
// Renew at most this long before the token expires (see tokenDue): a request sent just
// before expiry must not arrive just after.
const RENEW_BEFORE_MS = 60000;

/** The scopes reconcile's requests need (any one suffices, as the Management API accepts them). */
const SCOPES = [
  ['GET', /^\/api\/v2\/users$/, 'read:users'],
  ['GET', /^\/api\/v2\/users\/[^/]+(\/roles)?$/, 'read:users'],
  ['PATCH', /^\/api\/v2\/users\/[^/]+$/, 'update:users or update:users_app_metadata'],
  ['DELETE', /^\/api\/v2\/users\/[^/]+\/roles$/, 'delete:role_members or update:users'],
  ['GET', /^\/api\/v2\/roles$/, 'read:roles'],
  ['GET', /^\/api\/v2\/roles\/[^/]+$/, 'read:roles'],
  ['GET', /^\/api\/v2\/roles\/[^/]+\/users$/, 'read:role_members (or read:users and read:roles)'],
  ['POST', /^\/api\/v2\/roles\/[^/]+\/users$/, 'create:role_members or update:roles'],
  ['POST', /^\/api\/v2\/jobs\/users-exports$/, 'read:users'],
  ['GET', /^\/api\/v2\/organizations\/name\/[^/]+$/, 'read:organizations'],
  ['POST', /^\/api\/v2\/organizations\/[^/]+\/members$/, 'create:organization_members'],
  ['POST', /^\/api\/v2\/organizations\/[^/]+\/members\/[^/]+\/roles$/, 'create:organization_member_roles'],
  ['DELETE', /^\/api\/v2\/organizations\/[^/]+\/members$/, 'delete:organization_members'],
  ['DELETE', /^\/api\/v2\/organizations\/[^/]+\/members\/[^/]+\/roles$/, 'delete:organization_member_roles'],
  ['GET', /^\/api\/v2\/jobs\/[^/]+$/, 'read:users or create:users'],
];

function scopeFor(method, pathname) {
  const hit = SCOPES.find(([m, re]) => m === method && re.test(pathname));
  return hit ? hit[2] : null;
}

class TenantClient extends Management {
  /**
   * @param {object} o Management's options, plus pacer; timeoutMs (per request, default
   *   30 s; RECONCILE_TIMEOUT_MS); onRetry(line) for retry notes (default: say them verbosely)
   */
  constructor(o) {
    super(o);
    this.pacer = o.pacer || new Pacer({ now: this.now, sleep: this.sleep });
    this.timeoutMs = o.timeoutMs || DEFAULT_TIMEOUT_MS;
    this.onRetry = o.onRetry || ((l) => { if (this.verbose) this.say(l); });
    // Counts per endpoint class: requests sent (retries included), 429s, retries, failures.
    this.stats = new Map();
    this.reauth = null;
    this.tokenExpiresAt = null; // local time; null: the token reply gave no expires_in
    this.tokenReply = null;
    this.renewals = 0; // tokens after the first
  }

  /** deploy's token request; notes when the token expires (expires_in, counted from the request). */
  async authenticate() {
    const sentMs = this.now();
    const first = this.token === null;
    this.tokenReply = null;
    const token = await super.authenticate();
    const life = this.tokenReply && this.tokenReply.expires_in;
    this.tokenExpiresAt = Number.isFinite(life) && life > 0 ? sentMs + life * 1000 : null;
    this.tokenLifeMs = this.tokenExpiresAt === null ? null : life * 1000;
    this.tokenReply = null;
    if (!first) this.renewals++;
    return token;
  }

  /** Whether the token is close enough to expiry to renew before sending. */
  tokenDue() {
    if (this.tokenExpiresAt === null || this.token === null) return false;
    // A tenth of the life, but at least a second (or half the life) for short tokens: on a
    // loaded machine a request can take longer than a tenth of a 2 s token to arrive.
    const margin = Math.max(this.tokenLifeMs / 10, Math.min(this.tokenLifeMs / 2, 1000));
    return this.now() >= this.tokenExpiresAt - Math.min(RENEW_BEFORE_MS, margin);
  }

  stat(cls) {
    if (!this.stats.has(cls)) this.stats.set(cls, { requests: 0, limited: 0, retried: 0, timeouts: 0, ms: 0 });
    return this.stats.get(cls);
  }

  /** Totals over classes matching `pred` (names). */
  totals(pred = () => true) {
    const out = { requests: 0, limited: 0, retried: 0, timeouts: 0, ms: 0 };
    for (const [cls, s] of this.stats) if (pred(cls)) for (const k of Object.keys(out)) out[k] += s[k];
    return out;
  }

  /** A fresh token once, however many requests saw the 401 at the same time. */
  async refreshToken(stale) {
    if (this.token !== stale) return;
    if (!this.reauth) this.reauth = this.authenticate().finally(() => { this.reauth = null; });
    await this.reauth;
  }

  /**
   * Renewal before expiry. A renewal that fails while the old token still works is tried
   * again 5 s later (the run goes on meanwhile); once the token has expired, the failure is
   * the run's.
   */
  async renewEarly() {
    const expired = this.now() >= this.tokenExpiresAt;
    if (!expired && this.renewRetryAt && this.now() < this.renewRetryAt) return;
    try {
      await this.refreshToken(this.token);
      this.renewRetryAt = 0;
    } catch (e) {
      if (this.now() >= this.tokenExpiresAt) throw e;
      this.renewRetryAt = this.now() + 5000;
      this.onRetry(`  POST /oauth/token (renewal before the token expires): ${e.message}; the current token still works, trying again in 5 s`);
    }
  }

  /** One request through the pacer, with retries; returns {status, json, headers}. */
  async send(method, pathAndQuery, { body, auth = true } = {}) {
    const shown = pathAndQuery.split('?')[0];
    const cls = endpointClass(method, shown);
    const s = this.stat(cls);
    let failures = 0;
    let limited = 0;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const sentMs = await this.pacer.acquire(cls);
      // After the pacer's wait, which can outlast a short-lived token: checked before, a
      // request that waited would go out with a token that expired meanwhile.
      if (auth && this.tokenDue()) await this.renewEarly();
      const token = this.token;
      const { res, failure, timedOut } = await this.once(method, pathAndQuery, body, auth ? token : null);
      const h = (k) => (res ? res.headers.get(k) : null);
      const retryAfter = res && res.status === 429 ? retryAfterMs(h('retry-after'), this.now()) : null;
      this.pacer.release(cls, { status: res ? res.status : 0, headers: res ? res.headers : null, sentMs, retryAfterMs: retryAfter });
      if (!auth && res && res.status === 200 && res.json && cls === 'token') this.tokenReply = res.json;
      s.requests++;
      s.ms += this.now() - sentMs;
      if (attempt > 1) s.retried++;
      if (timedOut) s.timeouts++;
      const done = (r) => Object.assign(r, { attempts: attempt, limited });
      if (res && res.status === 429) {
        s.limited++;
        if (++limited >= MAX_429_ATTEMPTS) return done(res);
        // The pacer holds the class until the wait is over; a wait we cannot read is a backoff.
        if (retryAfter === null && h('x-ratelimit-reset') === null) await this.sleep(Math.min(backoffMs(limited, null, null, this.now(), this.random()), MAX_429_WAIT_MS));
        this.onRetry(`  ${method} ${shown}: HTTP 429; waiting for the rate limit (attempt ${attempt + 1})`);
        continue;
      }
      if (res && res.status === 401 && auth && !refreshed) {
        refreshed = true;
        await this.refreshToken(token);
        continue;
      }
      if (res && res.status < 500) return done(res);
      const why = res ? `HTTP ${res.status}` : failure;
      if (++failures >= MAX_FAILURE_ATTEMPTS) {
        if (res) return done(res);
        throw Object.assign(new ApiError(`${method} ${shown}: ${failure} (after ${failures} attempts)`, { method, path: shown, status: 0 }), { attempts: attempt, limited });
      }
      const wait = backoffMs(failures, h('retry-after'), null, this.now(), this.random());
      this.onRetry(`  ${method} ${shown}: ${why}; retrying in ${(wait / 1000).toFixed(1)} s (attempt ${failures + 1} of ${MAX_FAILURE_ATTEMPTS})`);
      await this.sleep(wait);
    }
  }

  /** deploy's messages, with reconcile's scopes on a 403 and its own word on a 409. */
  explain(method, pathname, res) {
    const e = super.explain(method, pathname, res);
    const scope = res.status === 403 ? scopeFor(method, pathname) : null;
    if (scope) e.message = e.message.replace(/: forbidden$/, `: the application lacks the scope ${scope}: grant it in Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications`);
    if (res.status === 409) e.message = e.message.replace(/: conflict: .*$/, ': conflict (a concurrent change?): the next run re-reads the user and plans again');
    return e;
  }

  /** One HTTP exchange: {res} or {failure, timedOut}. */
  once(method, pathAndQuery, body, token) {
    return exchange(this.origin + pathAndQuery, method, body, token, this.timeoutMs);
  }
}

module.exports = { TenantClient, scopeFor, DEFAULT_TIMEOUT_MS, MAX_FAILURE_ATTEMPTS };
