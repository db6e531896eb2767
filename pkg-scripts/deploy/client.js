'use strict';
// A small Management API client for the deploy script (global fetch, Node ≥ 18): a client
// credentials token, JSON requests, and the Action's own retry rules (src/core/retry.rs):
// 429, 5xx, network errors and timeouts are retried, waiting Retry-After, else until
// x-ratelimit-reset (epoch seconds), else a jittered exponential backoff; each wait is
// clamped to 0..4 s; at most 4 attempts. Errors say what to fix (a 403 names the scope).

const MAX_ATTEMPTS = 4;
const BASE_BACKOFF_MS = 250;
const MAX_WAIT_MS = 4000;
const REQUEST_TIMEOUT_MS = 15000;

/** The scope each Management API operation needs (per the OpenAPI description). */
const SCOPES = [
  ['GET', /^\/api\/v2\/actions\/actions$/, 'read:actions'],
  ['POST', /^\/api\/v2\/actions\/actions$/, 'create:actions'],
  ['POST', /^\/api\/v2\/actions\/actions\/[^/]+\/deploy$/, 'create:actions'],
  ['GET', /^\/api\/v2\/actions\/actions\/[^/]+$/, 'read:actions'],
  ['PATCH', /^\/api\/v2\/actions\/actions\/[^/]+$/, 'update:actions'],
  ['GET', /^\/api\/v2\/actions\/triggers\/[^/]+\/bindings$/, 'read:actions'],
  ['PATCH', /^\/api\/v2\/actions\/triggers\/[^/]+\/bindings$/, 'update:actions'],
];

function scopeFor(method, pathname) {
  const hit = SCOPES.find(([m, re]) => m === method && re.test(pathname));
  return hit ? hit[2] : null;
}

/** Retry-After in ms from now: delta-seconds or an IMF-fixdate; null when unparseable. */
function retryAfterMs(value, nowMs) {
  if (value === null || value === undefined) return null;
  const v = String(value).trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v)) return null;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/** How long to wait before retry `attempt` (1 = first retry); the same rules as the Action. */
function backoffMs(attempt, retryAfter, ratelimitReset, nowMs, jitter = Math.random()) {
  let wait = retryAfterMs(retryAfter, nowMs);
  if (wait === null && ratelimitReset !== null && ratelimitReset !== undefined && /^\s*\d+\s*$/.test(String(ratelimitReset))) {
    wait = Number(ratelimitReset) * 1000 - nowMs + 50; // the bucket refills at the reset second
  }
  if (wait === null) {
    const exp = BASE_BACKOFF_MS * 2 ** Math.min(Math.max(attempt - 1, 0), 8);
    // A NaN jitter counts as the middle, as in the Action.
    const j = Number.isNaN(jitter) ? 0.5 : Math.min(Math.max(jitter, 0), 1);
    wait = exp * (0.5 + j / 2);
  }
  return Math.min(Math.max(wait, 0), MAX_WAIT_MS);
}

/** `?k=v&…` for a query object (undefined values dropped), '' without one. */
function queryString(query) {
  return query ? '?' + new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])).toString() : '';
}

const retryable = (status) => status === 429 || status >= 500;

class ApiError extends Error {
  constructor(message, { method, path, status, errorCode, apiMessage } = {}) {
    super(message);
    Object.assign(this, { method, path, status, errorCode, apiMessage });
  }
}

/** Masks known secret values (client secrets, tokens, the Action's secrets) in any text. */
class Redactor {
  constructor() {
    this.values = new Set();
  }
  add(v) {
    if (typeof v === 'string' && v.length >= 6) this.values.add(v);
  }
  text(s) {
    let out = String(s);
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join('***');
    return out;
  }
}

class Management {
  /**
   * @param {object} o origin, clientId, clientSecret; say (line printer); verbose; redactor;
   *   sleep, now, random (for tests)
   */
  constructor(o) {
    this.origin = o.origin;
    this.clientId = o.clientId;
    this.clientSecret = o.clientSecret;
    this.say = o.say || ((l) => console.log(l));
    this.verbose = !!o.verbose;
    this.redactor = o.redactor || new Redactor();
    this.redactor.add(o.clientSecret);
    this.sleep = o.sleep || ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = o.now || Date.now;
    this.random = o.random || Math.random;
    this.token = null;
    this.scopes = null; // granted scopes, from the token response
    this.sent = []; // every request: {method, path, status}
  }

  /** The body of the token request (the dry run prints it with the secret masked). */
  tokenRequestBody() {
    return { grant_type: 'client_credentials', client_id: this.clientId, client_secret: this.clientSecret, audience: `${this.origin}/api/v2/` };
  }

  async authenticate() {
    const body = this.tokenRequestBody();
    const { audience } = body;
    const res = await this.send('POST', '/oauth/token', { body, auth: false });
    if (res.status !== 200 || !res.json || typeof res.json.access_token !== 'string') {
      const j = res.json || {};
      const what = `POST /oauth/token: HTTP ${res.status}${j.error ? ' ' + j.error : ''}${j.error_description ? ` (${j.error_description})` : ''}`;
      let hint = '';
      if (res.status === 401) hint = 'the deployer credentials were refused: check AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET';
      else if (res.status === 403) {
        hint = `the deployer application is not authorized for the Management API (audience ${audience}): Dashboard → Applications → ` +
          'APIs → Auth0 Management API → Machine to Machine Applications, authorize it with read:actions, create:actions, update:actions';
      } else if (res.status === 429) hint = 'rate limited: try again in a minute';
      throw new ApiError(hint ? `${what}: ${hint}` : what, { method: 'POST', path: '/oauth/token', status: res.status });
    }
    this.token = res.json.access_token;
    this.redactor.add(this.token);
    this.scopes = typeof res.json.scope === 'string' ? res.json.scope.split(/\s+/).filter(Boolean) : null;
    return this.token;
  }

  /** Scopes in `needed` the token was not granted (empty when the token did not list its scopes). */
  missingScopes(needed) {
    if (!this.scopes) return [];
    return [...new Set(needed)].filter((s) => !this.scopes.includes(s));
  }

  /** A Management API call; returns the parsed JSON body, throws ApiError on failure. */
  async call(method, pathname, { query, body } = {}) {
    if (!this.token) await this.authenticate();
    const res = await this.send(method, pathname + queryString(query), { body });
    if (res.status >= 200 && res.status < 300) return res.json;
    throw this.explain(method, pathname, res);
  }

  explain(method, pathname, res) {
    const j = res.json && typeof res.json === 'object' ? res.json : {};
    const apiMessage = typeof j.message === 'string' ? j.message : '';
    const code = j.errorCode ? ` ${j.errorCode}` : '';
    const base = `${method} ${pathname}: HTTP ${res.status}${code}${apiMessage ? ` (${apiMessage})` : ''}`;
    let hint = '';
    if (res.status === 401) {
      hint = 'the Management API refused the token: check that AUTH0_DOMAIN is the tenant the deployer application belongs to';
    } else if (res.status === 403) {
      const scope = scopeFor(method, pathname);
      hint = scope
        ? `the deployer application lacks the scope ${scope}: grant it in Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications`
        : 'forbidden';
    } else if (res.status === 409) {
      hint = 'conflict: another Action already has this name, or a concurrent change happened; re-run, or choose another --name';
    } else if (res.status === 429) {
      hint = `still rate limited after ${MAX_ATTEMPTS} attempts: try again in a minute`;
    } else if (res.status === 404) {
      hint = 'not found';
    }
    return new ApiError(this.redactor.text(hint ? `${base}: ${hint}` : base), {
      method, path: pathname, status: res.status, errorCode: j.errorCode, apiMessage,
    });
  }

  /** One request with retries; returns {status, json, headers} (network failures throw after the last attempt). */
  async send(method, pathAndQuery, { body, auth = true } = {}) {
    const url = this.origin + pathAndQuery;
    const shown = pathAndQuery.split('?')[0];
    for (let attempt = 1; ; attempt++) {
      const t0 = this.now();
      const { res, failure } = await exchange(url, method, body, auth ? this.token : null, REQUEST_TIMEOUT_MS);
      this.sent.push({ method, path: shown, status: res ? res.status : 0 });
      if (this.verbose) this.say(this.redactor.text(`  ${method} ${pathAndQuery} → ${res ? res.status : failure} (${this.now() - t0} ms)`));
      if (res && !retryable(res.status)) return res;
      const why = res ? `HTTP ${res.status}` : failure;
      if (attempt >= MAX_ATTEMPTS) {
        if (res) return res;
        throw new ApiError(`${method} ${shown}: ${failure} (after ${MAX_ATTEMPTS} attempts)`, { method, path: shown, status: 0 });
      }
      const h = (k) => (res ? res.headers.get(k) : null);
      const wait = backoffMs(attempt, h('retry-after'), h('x-ratelimit-reset'), this.now(), this.random());
      this.say(`  ${method} ${shown}: ${why}; retrying in ${(wait / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${MAX_ATTEMPTS})`);
      await this.sleep(wait);
    }
  }
}

/**
 * One HTTP exchange with a JSON body (no redirects): {res: {status, json, headers}} — json
 * undefined when the body is empty or not JSON — or {failure, timedOut} when no reply came.
 */
async function exchange(url, method, body, token, timeoutMs) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    const r = await fetch(url, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'error', signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await r.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch (_) {
      json = undefined;
    }
    return { res: { status: r.status, json, headers: r.headers } };
  } catch (e) {
    const timedOut = e.name === 'TimeoutError';
    const failure = timedOut ? `timed out after ${timeoutMs} ms` : `network error (${e.cause ? e.cause.code || e.cause.message : e.message})`;
    return { failure, timedOut };
  }
}

module.exports = { Management, ApiError, exchange, Redactor, backoffMs, retryAfterMs, scopeFor, queryString, MAX_ATTEMPTS, MAX_WAIT_MS };
