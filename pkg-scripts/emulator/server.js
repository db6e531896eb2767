'use strict';
// A local Auth0 tenant: a real HTTP server on 127.0.0.1 speaking the Management API's wire
// format (shapes per shared/reference/management-api-v2.subset.openapi.json), with in-memory
// state seeded from a JSON fixture (plus, optionally, N generated users: seed.js), token-bucket
// rate limits (ratelimit.js) and fault injection.
const http = require('node:http');
const crypto = require('node:crypto');
const { TokenBucket, RateLimiter } = require('./ratelimit.js');
const { UsersStore } = require('./users-store.js');

const JSON_TYPE = 'application/json; charset=utf-8';

function apiError(status, error, message, errorCode) {
  const body = { statusCode: status, error, message };
  if (errorCode) body.errorCode = errorCode;
  return { status, body };
}

// An unknown (or deleted) user: 404 on every /users/{id} operation (the OpenAPI subset lists it).
const noUser = () => apiError(404, 'Not Found', 'The user does not exist.', 'inexistent_user');

const ROUTES = [
  ['POST', /^\/oauth\/token$/, 'token', null],
  ['GET', /^\/api\/v2\/roles$/, 'listRoles', 'read:roles'],
  ['GET', /^\/api\/v2\/roles\/([^/]+)$/, 'getRole', 'read:roles'],
  ['GET', /^\/api\/v2\/users\/([^/]+)\/roles$/, 'listUserRoles', 'read:users read:roles'],
  ['POST', /^\/api\/v2\/users\/([^/]+)\/roles$/, 'assignRoles', 'update:users create:role_members'],
  ['DELETE', /^\/api\/v2\/users\/([^/]+)\/roles$/, 'removeRoles', 'update:users delete:role_members'],
  ['GET', /^\/api\/v2\/users\/([^/]+)\/permissions$/, 'listUserPermissions', 'read:users'],
  ['POST', /^\/api\/v2\/users\/([^/]+)\/permissions$/, 'assignPermissions', 'update:users'],
  ['DELETE', /^\/api\/v2\/users\/([^/]+)\/permissions$/, 'removePermissions', 'update:users'],
  ['POST', /^\/api\/v2\/tickets\/password-change$/, 'passwordTicket', 'create:user_tickets'],
  ['POST', /^\/api\/v2\/guardian\/enrollments\/ticket$/, 'mfaTicket', 'create:guardian_enrollment_tickets'],
  ['GET', /^\/api\/v2\/users\/([^/]+)$/, 'getUser', 'read:users'],
  ['PATCH', /^\/api\/v2\/users\/([^/]+)$/, 'updateUser', 'update:users update:users_app_metadata'],
  ['GET', /^\/api\/v2\/resource-servers$/, 'listResourceServers', 'read:resource_servers'],
];

/** Route template for logs and counts, e.g. "POST /api/v2/users/{id}/roles". */
function routeOf(method, pathname) {
  const tpl = pathname
    .replace(/^\/api\/v2\/users\/[^/]+/, '/api/v2/users/{id}')
    .replace(/^\/api\/v2\/roles\/[^/]+/, '/api/v2/roles/{id}')
    .replace(/^\/api\/v2\/organizations\/name\/[^/]+$/, '/api/v2/organizations/name/{name}')
    .replace(/^\/api\/v2\/organizations\/(?!name\/)[^/]+/, '/api/v2/organizations/{id}')
    .replace(/^(\/api\/v2\/organizations\/\{id\}\/members)\/[^/]+\/roles$/, '$1/{user_id}/roles')
    .replace(/^\/api\/v2\/jobs\/(?!users-exports$)[^/]+$/, '/api/v2/jobs/{id}')
    .replace(/^\/exports\/[^/]+\/[^/]+$/, '/exports/{job}/{file}');
  return `${method} ${tpl}`;
}

class TenantEmulator {
  /**
   * @param {object} fixture clients, roles, users, connections, applications
   * @param {object} [opts] rateLimit: {burst, perSecond} | null; tokenLifetime (s);
   *   retryAfter: also send Retry-After on 429s; tokenPrefix: what issued tokens start with
   *   (default "emu."; real Management API tokens are JWTs sharing a long header prefix);
   *   seed: {users: N, seed?} generated users besides the fixture's (seed.js; those come first
   *   in list order); rateProfile: 'none' | 'free' | 'essentials' | 'professional' |
   *   'enterprise' | 'enterprise-nonprod' | {api?, endpoints?} (ratelimit.js), with rateSpeed
   *   (refill multiplier, default 1), checked after rateLimit's single bucket when both are set,
   *   and rateClock (tests: the buckets' clock in ms, default Date.now);
   *   requestLog: how many entries `requests` keeps (default all; routeStats() counts all);
   *   exportJobMs, exportLinkMs, tenantName: export jobs (exports-api.js)
   */
  constructor(fixture, opts = {}) {
    const f = JSON.parse(JSON.stringify(fixture));
    this.fixture = f; // extensions (actions-api.js) read their own sections from it
    this.clients = f.clients || [];
    for (const c of this.clients) noteSecret(c.client_secret);
    this.applications = f.applications || [];
    this.connections = f.connections || [];
    this.roles = f.roles || [];
    this.resourceServers = f.resource_servers || [];
    this.organizations = f.organizations || [];
    this.tickets = [];
    const gen = opts.seed ? require('./seed.js').makeGenerator({ ...opts.seed, roles: this.roles }) : null;
    this.users = new UsersStore(gen);
    for (const u of f.users || []) this.addUser(u);
    this.options = opts;
    this.tokens = new Map();
    this.tokenLifetime = opts.tokenLifetime || 86400;
    this.tokenPrefix = opts.tokenPrefix || 'emu.';
    this.limiter = opts.rateLimit ? new TokenBucket(opts.rateLimit) : null;
    this.setRateProfile(opts.rateProfile, opts.rateSpeed);
    this.retryAfter = !!opts.retryAfter;
    this.requestLog = opts.requestLog === undefined ? Infinity : opts.requestLog;
    this.counts = new Map();
    this.faults = [];
    this.requests = [];
    this.sockets = new Set();
    this.origin = null;
  }

  addUser(u) {
    const now = new Date().toISOString();
    this.users.set(u.user_id, {
      email_verified: false,
      app_metadata: {},
      user_metadata: {},
      logins_count: 0,
      roles: [],
      permissions: [],
      created_at: now,
      updated_at: now,
      ...u,
    });
  }

  setRateLimit(rateLimit) {
    this.limiter = rateLimit ? new TokenBucket(rateLimit) : null;
  }

  /** Per-endpoint buckets by profile name (ratelimit.js PROFILES) and speed; null: none. */
  setRateProfile(profile, speed = 1) {
    this.rates = profile ? new RateLimiter(profile, { speed, now: (this.options && this.options.rateClock) || Date.now }) : null;
  }

  /** Requests and 429s per route template, counted from the start (unlike `requests`). */
  routeStats() {
    return Object.fromEntries(this.counts);
  }

  /** Test hook: the user is gone (404 everywhere, out of every list and export). */
  deleteUser(id) {
    return this.users.delete(id);
  }

  /**
   * Makes matching requests misbehave. fault: {method?, path? (RegExp or route prefix),
   * times? (default 1; Infinity), status?, body? (or a function of the request
   * {headers, body} returning it, e.g. to echo what was sent), headers?, mode?: 'status' |
   * 'hang' | 'reset' | 'html' | 'truncated' | 'empty' | 'huge'}. 'huge' streams a JSON roles
   * page of `bytes` bytes (default 50 MB) without holding it, chunked unless `contentLength`
   * is true; `sent` on the fault counts the bytes actually written. Returns the stored fault.
   */
  injectFault(fault) {
    const f = { times: 1, mode: 'status', ...fault };
    this.faults.push(f);
    return f;
  }

  clearFaults() {
    this.faults = [];
  }

  /** Requests seen, optionally only those of one route ("POST /api/v2/users/{id}/roles"). */
  count(route) {
    return route ? this.requests.filter((r) => r.route === route).length : this.requests.length;
  }

  async start(port = 0) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${this.server.address().port}`;
    return this.origin;
  }

  async stop() {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  takeFault(method, route, pathname) {
    const i = this.faults.findIndex((f) =>
      (!f.method || f.method === method) &&
      (!f.path || (f.path instanceof RegExp ? f.path.test(pathname) : route.startsWith(`${method} ${f.path}`) || route === f.path)));
    if (i < 0) return null;
    const f = this.faults[i];
    if (--f.times <= 0) this.faults.splice(i, 1);
    return f;
  }

  handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let url;
      try {
        url = new URL(req.url, 'http://127.0.0.1');
      } catch (_) {
        res.writeHead(400, { 'content-type': JSON_TYPE });
        return res.end(JSON.stringify(apiError(400, 'Bad Request', 'Invalid request URI', 'invalid_uri').body));
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const route = routeOf(req.method, url.pathname);
      const entry = { method: req.method, path: req.url, route, status: 0, t: Date.now() };
      this.requests.push(entry);
      if (this.requests.length > 2 * this.requestLog) this.requests.splice(0, this.requests.length - this.requestLog);
      const counted = this.counts.get(route) || { requests: 0, limited: 0 };
      this.counts.set(route, counted);
      counted.requests += 1;
      let rateHeaders = this.limiter ? null : {};
      // Test support: lets a test act between requests (revoke tokens, arm a fault).
      if (this.onRequest) this.onRequest(entry);
      const send = (status, body, headers = {}) => {
        entry.status = status;
        entry.response = body;
        const h = { ...(rateHeaders || this.limiter.headers()), ...headers };
        if (status === 204 || (status === 201 && body === undefined)) {
          // Real recording: 204 with an empty body, yet a JSON content type.
          res.writeHead(status, { 'content-type': JSON_TYPE, ...h });
          return res.end();
        }
        // A streamed reply (an export download): the handler writes and ends it.
        if (typeof body === 'function') {
          res.writeHead(status, h);
          return body(res);
        }
        const text = body === undefined ? '' : JSON.stringify(body);
        res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text), ...h });
        res.end(text);
      };
      try {
        entry.body = raw ? parseBody(req.headers['content-type'], raw) : undefined;
      } catch (e) {
        const { status, body } = apiError(400, 'Bad Request', `Invalid request payload input: ${e.message}`, 'invalid_body');
        return send(status, body);
      }
      const fault = this.takeFault(req.method, route, url.pathname);
      if (fault) return this.misbehave(fault, entry, res, send, req);
      if (this.limiter && !this.limiter.take()) {
        const headers = {};
        if (this.retryAfter) headers['retry-after'] = String(Math.max(1, Math.ceil(1 / this.limiter.perSecond)));
        entry.limited = true;
        counted.limited += 1;
        const e = apiError(429, 'Too Many Requests', 'Global limit has been reached', 'too_many_requests');
        return send(e.status, e.body, headers);
      }
      if (this.rates) {
        const { refused, headers } = this.rates.take(req.method, url.pathname);
        if (Object.keys(headers).length || !this.limiter) rateHeaders = headers;
        if (refused) {
          entry.limited = true;
          counted.limited += 1;
          const message = refused.name === 'api' ? 'Global limit has been reached' : `Rate limit of the ${refused.name} endpoints has been reached`;
          const e = apiError(429, 'Too Many Requests', message, 'too_many_requests');
          return send(e.status, e.body, this.retryAfter ? { 'retry-after': String(refused.retryAfter()) } : {});
        }
      }
      let r;
      try {
        r = this.dispatch(req, url, entry);
      } catch (e) {
        r = apiError(500, 'Internal Server Error', `emulator error: ${e.message}`);
      }
      send(r.status, r.body, r.headers);
    });
  }

  misbehave(fault, entry, res, send, req) {
    entry.fault = fault.mode;
    switch (fault.mode) {
      case 'hang':
        entry.status = -1;
        return; // never answers; the socket is destroyed at stop()
      case 'reset':
        entry.status = -2;
        return res.socket.destroy();
      case 'html':
        entry.status = fault.status || 502;
        res.writeHead(entry.status, { 'content-type': 'text/html' });
        return res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      case 'truncated':
        entry.status = fault.status || 200;
        res.writeHead(entry.status, { 'content-type': JSON_TYPE });
        return res.end('{"roles":[{"id":"rol_');
      case 'empty':
        entry.status = fault.status || 200;
        res.writeHead(entry.status, { 'content-type': JSON_TYPE });
        return res.end();
      case 'huge':
        entry.status = fault.status || 200;
        return streamHuge(fault, entry.status, res);
      default: {
        const status = fault.status || 500;
        const given = typeof fault.body === 'function' ? fault.body({ headers: req.headers, body: entry.body }) : fault.body;
        const body = given !== undefined ? given
          : status === 429 ? apiError(429, 'Too Many Requests', 'Global limit has been reached', 'too_many_requests').body
            : apiError(status, http.STATUS_CODES[status] || 'Error', 'Injected fault').body;
        return send(status, body, fault.headers);
      }
    }
  }

  dispatch(req, url, entry) {
    for (const [method, re, handler, scopes] of ROUTES) {
      const m = url.pathname.match(re);
      if (!m || req.method !== method) continue;
      let params;
      try {
        params = m.slice(1).map(decodeURIComponent);
      } catch (_) {
        return apiError(400, 'Bad Request', 'Invalid path parameter encoding', 'invalid_uri');
      }
      if (scopes) {
        const auth = req.headers.authorization || '';
        const tok = this.tokens.get(auth.startsWith('Bearer ') ? auth.slice(7) : '');
        if (!tok || tok.expires_at <= Date.now()) {
          return apiError(401, 'Unauthorized', tok ? 'Expired token received for JSON Web Token validation' : 'Invalid token', 'invalid_token');
        }
        entry.client_id = tok.client_id;
        entry.scopes = tok.scopes; // for a module whose reply depends on a further scope
        const any = scopes.split(' ');
        if (!any.some((s) => tok.scopes.includes(s))) {
          return apiError(403, 'Forbidden', `Insufficient scope, expected any of: ${any.join(',')}`, 'insufficient_scope');
        }
      }
      // A function is a mounted module's handler (see the end of this file); a name, a method here.
      return typeof handler === 'function' ? handler(this, params, url.searchParams, entry.body, entry) : this[handler](params, url.searchParams, entry.body);
    }
    return apiError(404, 'Not Found', 'Not Found');
  }

  token(_params, _query, body) {
    body = body || {};
    if (body.grant_type !== 'client_credentials') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Unsupported grant type' } };
    }
    const client = this.clients.find((c) => c.client_id === body.client_id);
    if (!client || client.client_secret !== body.client_secret) {
      return { status: 401, body: { error: 'access_denied', error_description: 'Unauthorized' } };
    }
    if (body.audience !== `${this.origin}/api/v2/`) {
      return { status: 403, body: { error: 'access_denied', error_description: `Service not enabled within domain: ${body.audience}` } };
    }
    const access_token = `${this.tokenPrefix}${crypto.randomBytes(24).toString('base64url')}`;
    noteSecret(access_token);
    this.tokens.set(access_token, {
      client_id: client.client_id,
      scopes: client.scopes,
      expires_at: Date.now() + this.tokenLifetime * 1000,
    });
    return {
      status: 200,
      body: { access_token, expires_in: this.tokenLifetime, scope: client.scopes.join(' '), token_type: 'Bearer' },
    };
  }

  paging(query) {
    const num = (k, def) => (query.has(k) ? Number(query.get(k)) : def);
    const per_page = num('per_page', 50);
    const page = num('page', 0);
    if (!Number.isInteger(per_page) || per_page < 1 || per_page > 100) return { error: 'per_page' };
    if (!Number.isInteger(page) || page < 0) return { error: 'page' };
    const totals = query.get('include_totals') === 'true';
    return { per_page, page, totals };
  }

  pageOf(items, p, key) {
    const start = p.page * p.per_page;
    const slice = items.slice(start, start + p.per_page).map(({ id, name, description }) => ({ id, name, description }));
    if (!p.totals) return { status: 200, body: slice };
    return { status: 200, body: { [key]: slice, start, limit: p.per_page, total: items.length } };
  }

  listRoles(_params, query) {
    const p = this.paging(query);
    if (p.error) return apiError(400, 'Bad Request', `Query validation error: invalid ${p.error}`, 'invalid_query_string');
    const filter = (query.get('name_filter') || '').toLowerCase();
    // name_filter is a case-insensitive partial match, as on a real tenant.
    const matched = this.roles.filter((r) => r.name.toLowerCase().includes(filter));
    return this.pageOf(matched, p, 'roles');
  }

  getRole([id]) {
    const role = this.roles.find((r) => r.id === id);
    if (!role) return apiError(404, 'Not Found', 'The role does not exist.', 'inexistent_role');
    return { status: 200, body: { id: role.id, name: role.name, description: role.description } };
  }

  listUserRoles([id], query) {
    const p = this.paging(query);
    if (p.error) return apiError(400, 'Bad Request', `Query validation error: invalid ${p.error}`, 'invalid_query_string');
    const user = this.users.peek(id);
    if (!user) return noUser();
    const held = this.roles.filter((r) => user.roles.includes(r.id));
    return this.pageOf(held, p, 'roles');
  }

  checkRolesBody(body) {
    const ok = body && typeof body === 'object' && !Array.isArray(body) &&
      Object.keys(body).every((k) => k === 'roles') && Array.isArray(body.roles) && body.roles.length >= 1 &&
      body.roles.every((r) => typeof r === 'string' && r.length >= 1);
    if (!ok) return apiError(400, 'Bad Request', 'Payload validation error: expected {"roles": [role ids]}', 'invalid_body');
    const unknown = body.roles.find((r) => !this.roles.some((x) => x.id === r));
    if (unknown) return apiError(400, 'Bad Request', `One or more roles do not exist: ${unknown}`, 'invalid_body');
    return null;
  }

  assignRoles([id], _query, body) {
    const bad = this.checkRolesBody(body);
    if (bad) return bad;
    const user = this.users.get(id);
    if (!user) return noUser();
    for (const r of body.roles) if (!user.roles.includes(r)) user.roles.push(r);
    return { status: 204 };
  }

  removeRoles([id], _query, body) {
    const bad = this.checkRolesBody(body);
    if (bad) return bad;
    const user = this.users.get(id);
    if (!user) return noUser();
    user.roles = user.roles.filter((r) => !body.roles.includes(r));
    return { status: 204 };
  }

  checkPermissionsBody(body) {
    const ok = body && typeof body === 'object' && !Array.isArray(body) &&
      Object.keys(body).every((k) => k === 'permissions') && Array.isArray(body.permissions) && body.permissions.length >= 1 &&
      body.permissions.every((p) => p && typeof p === 'object' && typeof p.resource_server_identifier === 'string' &&
        typeof p.permission_name === 'string' && Object.keys(p).every((k) => k === 'resource_server_identifier' || k === 'permission_name'));
    if (!ok) return apiError(400, 'Bad Request', 'Payload validation error: expected {"permissions": [{resource_server_identifier, permission_name}]}', 'invalid_body');
    for (const p of body.permissions) {
      const rs = this.resourceServers.find((r) => r.identifier === p.resource_server_identifier);
      if (!rs || !(rs.scopes || []).some((s) => s.value === p.permission_name)) {
        return apiError(400, 'Bad Request', `Permission ${p.permission_name} does not exist on ${p.resource_server_identifier}`, 'invalid_body');
      }
    }
    return null;
  }

  assignPermissions([id], _query, body) {
    const bad = this.checkPermissionsBody(body);
    if (bad) return bad;
    const user = this.users.get(id);
    if (!user) return noUser();
    for (const p of body.permissions) {
      const held = user.permissions.some((q) => q.resource_server_identifier === p.resource_server_identifier && q.permission_name === p.permission_name);
      if (!held) user.permissions.push({ resource_server_identifier: p.resource_server_identifier, permission_name: p.permission_name });
    }
    return { status: 201 };
  }

  removePermissions([id], _query, body) {
    const bad = this.checkPermissionsBody(body);
    if (bad) return bad;
    const user = this.users.get(id);
    if (!user) return noUser();
    user.permissions = user.permissions.filter((q) => !body.permissions.some((p) =>
      p.resource_server_identifier === q.resource_server_identifier && p.permission_name === q.permission_name));
    return { status: 204 };
  }

  listUserPermissions([id], query) {
    const p = this.paging(query);
    if (p.error) return apiError(400, 'Bad Request', `Query validation error: invalid ${p.error}`, 'invalid_query_string');
    const user = this.users.peek(id);
    if (!user) return apiError(404, 'Not Found', 'The user does not exist.', 'inexistent_user');
    const all = user.permissions.map((q) => {
      const rs = this.resourceServers.find((r) => r.identifier === q.resource_server_identifier) || {};
      const scope = (rs.scopes || []).find((s) => s.value === q.permission_name) || {};
      return { ...q, resource_server_name: rs.name || q.resource_server_identifier, description: scope.description || '' };
    });
    const start = p.page * p.per_page;
    const slice = all.slice(start, start + p.per_page);
    return { status: 200, body: p.totals ? { permissions: slice, start, limit: p.per_page, total: all.length } : slice };
  }

  newTicket(kind, body, allowed) {
    if (!body || typeof body !== 'object' || Array.isArray(body) || typeof body.user_id !== 'string' ||
        Object.keys(body).some((k) => !allowed.includes(k))) {
      return { error: apiError(400, 'Bad Request', 'Payload validation error: expected {user_id, ...}', 'invalid_body') };
    }
    if (body.ttl_sec !== undefined && !(Number.isInteger(body.ttl_sec) && body.ttl_sec >= 0)) {
      return { error: apiError(400, 'Bad Request', 'Payload validation error: ttl_sec must be a non-negative integer', 'invalid_body') };
    }
    if (!this.users.has(body.user_id)) return { error: apiError(404, 'Not Found', 'The user does not exist.', 'inexistent_user') };
    const id = crypto.randomBytes(12).toString('hex');
    this.tickets.push({ kind, id, ...body });
    return { id };
  }

  passwordTicket(_params, _query, body) {
    const t = this.newTicket('password-change', body, ['user_id', 'result_url', 'ttl_sec', 'mark_email_as_verified', 'client_id', 'includeEmailInRedirect']);
    if (t.error) return t.error;
    return { status: 201, body: { ticket: `${this.origin}/lo/reset?ticket=${t.id}#` } };
  }

  mfaTicket(_params, _query, body) {
    const t = this.newTicket('mfa-enrollment', body, ['user_id', 'send_mail', 'email', 'email_locale', 'factor', 'allow_multiple_enrollments']);
    if (t.error) return t.error;
    return { status: 200, body: { ticket_id: t.id, ticket_url: `${this.origin}/guardian/enroll?ticket=${t.id}` } };
  }

  getUser([id]) {
    const user = this.users.peek(id);
    if (!user) return apiError(404, 'Not Found', 'The user does not exist.', 'inexistent_user');
    return { status: 200, body: this.publicUser(user) };
  }

  updateUser([id], _query, body) {
    const user = this.users.get(id);
    if (!user) return apiError(404, 'Not Found', 'The user does not exist.', 'inexistent_user');
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return apiError(400, 'Bad Request', 'Payload validation error: expected an object', 'invalid_body');
    }
    for (const key of ['app_metadata', 'user_metadata']) {
      const v = body[key];
      if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) {
        return apiError(400, 'Bad Request', `Payload validation error: '${key}' must be an object`, 'invalid_body');
      }
    }
    for (const key of ['app_metadata', 'user_metadata']) {
      if (body[key] === undefined) continue;
      // Auth0: patching the metadata with an empty object removes it completely.
      if (Object.keys(body[key]).length === 0) user[key] = {};
      else mergeFirstLevel(user, key, body[key]);
    }
    user.updated_at = new Date().toISOString();
    return { status: 200, body: this.publicUser(user) };
  }

  listResourceServers(_params, query) {
    const p = this.paging(query);
    if (p.error) return apiError(400, 'Bad Request', `Query validation error: invalid ${p.error}`, 'invalid_query_string');
    const all = this.resourceServers.map(({ identifier, name, scopes }, i) => ({ id: `rs_${i + 1}`, identifier, name, scopes: scopes || [] }));
    const start = p.page * p.per_page;
    const slice = all.slice(start, start + p.per_page);
    return { status: 200, body: p.totals ? { resource_servers: slice, start, limit: p.per_page, total: all.length } : slice };
  }

  /** The user as the Management API shows it (UserResponseSchema fields). */
  publicUser(u) {
    const [provider, ...rest] = u.user_id.split('|');
    const conn = this.connections.find((c) => c.name === u.connection) || { strategy: provider };
    return {
      user_id: u.user_id,
      email: u.email,
      email_verified: u.email_verified,
      name: u.name,
      created_at: u.created_at,
      updated_at: u.updated_at,
      logins_count: u.logins_count,
      app_metadata: u.app_metadata,
      user_metadata: u.user_metadata,
      identities: [{ provider: conn.strategy, connection: u.connection, user_id: rest.join('|'), isSocial: conn.strategy !== 'auth0' }],
    };
  }

  /** Role names the user holds (what Auth0 puts in event.authorization.roles). */
  roleNames(user_id) {
    const u = this.users.peek(user_id);
    return u ? this.roles.filter((r) => u.roles.includes(r.id)).map((r) => r.name) : [];
  }
}

/** PATCH semantics: app_metadata/user_metadata merge at the first level; null deletes a key. */
function mergeFirstLevel(user, key, patch) {
  const next = { ...(user[key] || {}) };
  for (const [k, v] of Object.entries(patch || {})) {
    if (k === '__proto__') continue;
    if (v === null) delete next[k];
    else next[k] = v;
  }
  user[key] = next;
}

/**
 * Writes a JSON roles page of fault.bytes bytes (padded with whitespace) in 64 kB chunks as
 * the client reads them: neither side has to hold it, and fault.sent shows how much of it
 * was taken before the client hung up.
 */
function streamHuge(fault, status, res) {
  const total = fault.bytes || 50 * 1024 * 1024;
  const role = '{"id":"rol_huge000000001","name":"Huge"},';
  const chunk = Buffer.from(role.repeat(Math.floor(65536 / role.length)));
  const head = Buffer.from('{"roles":[');
  const tail = Buffer.from('{"id":"rol_huge000000002","name":"Last"}],"total":1}');
  const headers = { 'content-type': JSON_TYPE };
  if (fault.contentLength) headers['content-length'] = String(total);
  res.writeHead(status, headers);
  fault.sent = 0;
  const write = (buf) => {
    fault.sent += buf.length;
    return res.write(buf);
  };
  write(head);
  const pump = () => {
    while (!res.destroyed) {
      const left = total - fault.sent - tail.length;
      if (left <= 0) {
        write(tail);
        return res.end();
      }
      if (!write(left >= chunk.length ? chunk : Buffer.alloc(left, 0x20))) return res.once('drain', pump);
    }
  };
  res.on('close', () => { fault.closed = true; });
  pump();
}

// Test support: with SECRET_SCAN_DIR set, every credential this tenant knows or issues is
// listed so pkg-scripts/scan-secrets.js can check no Action output ever contained one.
function noteSecret(value) {
  const dir = process.env.SECRET_SCAN_DIR;
  if (dir && value) require('node:fs').appendFileSync(require('node:path').join(dir, 'secrets.txt'), value + '\n');
}

function parseBody(contentType = '', raw) {
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  return JSON.parse(raw);
}

// Endpoints in their own modules (the Actions API, for deployment) are mounted in the routing
// table: each route's handler is a function of (emulator, params, query, body, request entry:
// its scopes for a reply that depends on one), the module keeping its own state per emulator.
ROUTES.push(...require('./actions-api.js').routes, ...require('./deploy-cli-api.js').routes, ...require('./users-api.js').routes,
  ...require('./exports-api.js').routes, ...require('./organizations-api.js').routes);

module.exports = { TenantEmulator, TokenBucket, mergeFirstLevel, routeOf };
