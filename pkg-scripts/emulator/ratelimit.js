'use strict';
// Management API rate limits as Auth0's plan pages describe them (shared/reference/
// auth0-facts-bulk.md › rate limits): token buckets (burst = bucket size, sustained = refill
// rate); an optional API-wide bucket is checked first, then the bucket of the endpoint's
// class. A profile names the buckets; `speed` multiplies every refill rate (bursts stay), so a
// test sees the realistic shape at e.g. 50 times the rate.
//
// What the pages leave open, decided here: a request the endpoint bucket refuses has still
// spent its API-wide token (the buckets are checked in turn, not reserved together); the
// Authentication API's /oauth/token and the export downloads (/exports/..., a storage link,
// not the Management API) draw from no bucket; x-ratelimit-limit is the burst and
// x-ratelimit-reset the epoch second at which the bucket is full again.

class TokenBucket {
  constructor({ burst, perSecond }, now = Date.now) {
    this.burst = burst;
    this.perSecond = perSecond;
    this.now = now;
    this.tokens = burst;
    this.at = now();
  }
  refill() {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) / 1000) * this.perSecond);
    this.at = t;
  }
  take() {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
  /** Seconds until one token is back (at least 1: Retry-After is whole seconds). */
  retryAfter() {
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
  }
  headers() {
    const missing = this.burst - this.tokens;
    const resetMs = this.at + (missing / this.perSecond) * 1000;
    return {
      'x-ratelimit-limit': String(this.burst),
      'x-ratelimit-remaining': String(Math.max(0, Math.floor(this.tokens))),
      'x-ratelimit-reset': String(Math.ceil(resetMs / 1000)),
    };
  }
}

/**
 * The endpoint class of a request (the plan pages' rows), or null for what no Management API
 * bucket covers. `user-organizations` is checked before the users rows.
 */
function classify(method, pathname) {
  if (!pathname.startsWith('/api/v2/')) return null;
  const p = pathname.slice('/api/v2'.length);
  const read = method === 'GET';
  if (/^\/users\/[^/]+\/organizations$/.test(p)) return read ? 'user-organizations' : 'other';
  if (/^\/users(\/|$)|^\/users-by-email$/.test(p)) return read ? 'read-users' : 'write-users';
  if (/^\/organizations\/[^/]+\/members\/[^/]+\/roles$/.test(p)) return 'organization-member-roles';
  if (/^\/organizations\/[^/]+\/members$/.test(p)) return read ? 'organization-members-read' : 'organization-members-write';
  if (/^\/organizations\/name\/[^/]+$/.test(p)) return read ? 'organization-by-name' : 'other';
  if (/^\/organizations(\/[^/]+)?$/.test(p) && read) return 'read-organizations';
  return 'other';
}

const perMinute = (burst, n) => ({ burst, perSecond: n / 60 });
const ORG_ROWS = {
  'organization-members-read': perMinute(40, 500),
  'organization-members-write': perMinute(20, 200),
  'organization-member-roles': perMinute(20, 200),
};

/**
 * Named profiles: `api` the API-wide bucket (or null), `endpoints` a bucket per endpoint class
 * (a class not listed has none; `other` is one bucket shared by all the rest).
 */
const PROFILES = {
  none: { api: null, endpoints: {} },
  // Free: only the API-wide row is documented.
  free: { api: { burst: 2, perSecond: 2 }, endpoints: {} },
  // Essentials / Professional / B2B Essentials: no API-wide row.
  essentials: {
    api: null,
    endpoints: {
      'read-users': perMinute(40, 500),
      'write-users': perMinute(20, 200),
      'read-organizations': perMinute(5, 50),
      'organization-by-name': perMinute(10, 100),
      ...ORG_ROWS,
      other: perMinute(10, 150),
    },
  },
  // Enterprise production; the page lists organization rows only besides the API-wide one.
  enterprise: {
    api: { burst: 50, perSecond: 16 },
    endpoints: {
      'read-organizations': perMinute(10, 100),
      'organization-by-name': perMinute(20, 200),
      'user-organizations': perMinute(40, 500),
      ...ORG_ROWS,
    },
  },
};
PROFILES.professional = PROFILES.essentials;
PROFILES['enterprise-nonprod'] = { ...PROFILES.enterprise, api: { burst: 10, perSecond: 2 } };

class RateLimiter {
  /**
   * @param {string|object} profile a name in PROFILES or {api?, endpoints?} of {burst, perSecond}
   * @param {object} [opts] speed: refill multiplier (default 1); now: clock (ms)
   */
  constructor(profile, { speed = 1, now = Date.now } = {}) {
    const p = typeof profile === 'string' ? PROFILES[profile] : profile;
    if (!p || typeof p !== 'object') {
      throw new Error(`unknown rate-limit profile ${JSON.stringify(profile)} (one of ${Object.keys(PROFILES).join(', ')})`);
    }
    if (!(typeof speed === 'number' && speed > 0 && Number.isFinite(speed))) throw new Error(`rate speed must be a positive number, not ${speed}`);
    this.name = typeof profile === 'string' ? profile : 'custom';
    this.speed = speed;
    const make = (spec, name) => Object.assign(new TokenBucket({ burst: spec.burst, perSecond: spec.perSecond * speed }, now), { name });
    this.api = p.api ? make(p.api, 'api') : null;
    this.endpoints = new Map(Object.entries(p.endpoints || {}).map(([k, spec]) => [k, make(spec, k)]));
  }

  /** The buckets a request draws from, API-wide first. */
  bucketsFor(method, pathname) {
    const cls = classify(method, pathname);
    if (!cls) return [];
    const out = this.api ? [this.api] : [];
    // Essentials/Professional list no row for a user's organizations: it is one of "all
    // other endpoints combined" there (Enterprise has its own row and no `other`).
    const ep = this.endpoints.get(cls) || (cls === 'user-organizations' ? this.endpoints.get('other') : undefined);
    if (ep) out.push(ep);
    return out;
  }

  /**
   * Takes a token from each bucket in turn. Returns {refused: the bucket that said no, or
   * null; headers: that bucket's x-ratelimit-*, else the tightest bucket's (fewest tokens
   * left), {} when none applies}.
   */
  take(method, pathname) {
    const buckets = this.bucketsFor(method, pathname);
    for (const b of buckets) {
      if (!b.take()) return { refused: b, headers: b.headers() };
    }
    if (!buckets.length) return { refused: null, headers: {} };
    const tightest = buckets.reduce((a, b) => (b.tokens < a.tokens || (b.tokens === a.tokens && b.burst < a.burst) ? b : a));
    return { refused: null, headers: tightest.headers() };
  }
}

module.exports = { TokenBucket, RateLimiter, PROFILES, classify };
