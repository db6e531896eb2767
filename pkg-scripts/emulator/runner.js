'use strict';
// Plays Auth0's part for dist/action.js: builds post-login / post-user-registration events
// from the emulator's users, hands the Action an `api` with Auth0's semantics (api.cache
// limits and record shape, metadata persisted after the execution, claims and deny
// recorded), and loads the Action file exactly as deployed (a CommonJS module that may
// only require Node built-ins).
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { AsyncLocalStorage } = require('node:async_hooks');

const CACHE_LIMITS = { keyBytes: 64, valueBytes: 4096, entries: 20, totalBytes: 8192, defaultTtl: 15 * 60 * 1000, maxTtl: 24 * 60 * 60 * 1000 };

/** api.cache as Auth0 documents it: synchronous, records {value, expires_at}, size limits. */
class ActionCache {
  constructor(now = Date.now) {
    this.now = now;
    this.entries = new Map();
  }
  purge() {
    const t = this.now();
    for (const [k, r] of this.entries) if (r.expires_at <= t) this.entries.delete(k);
  }
  get(key) {
    this.purge();
    const r = this.entries.get(key);
    return r ? { value: r.value, expires_at: r.expires_at } : undefined;
  }
  set(key, value, options = {}) {
    this.purge();
    if (Buffer.byteLength(String(key)) > CACHE_LIMITS.keyBytes) return { type: 'error', code: 'CacheKeySizeExceeded' };
    if (typeof value !== 'string') value = String(value);
    if (Buffer.byteLength(value) > CACHE_LIMITS.valueBytes) return { type: 'error', code: 'CacheValueSizeExceeded' };
    const others = [...this.entries].filter(([k]) => k !== key);
    const total = others.reduce((n, [k, r]) => n + Buffer.byteLength(k) + Buffer.byteLength(r.value), 0);
    if (others.length >= CACHE_LIMITS.entries || total + Buffer.byteLength(key) + Buffer.byteLength(value) > CACHE_LIMITS.totalBytes) {
      return { type: 'error', code: 'CacheSizeExceeded' };
    }
    const t = this.now();
    let expires_at = options.expires_at !== undefined ? options.expires_at : t + (options.ttl !== undefined ? options.ttl : CACHE_LIMITS.defaultTtl);
    expires_at = Math.min(expires_at, t + CACHE_LIMITS.maxTtl);
    const record = { value, expires_at };
    this.entries.set(key, record);
    return { type: 'success', record: { ...record } };
  }
  delete(key) {
    const r = this.entries.get(key);
    this.entries.delete(key);
    return { type: 'success', record: r ? { ...r } : undefined };
  }
}

const als = new AsyncLocalStorage();
// When set (by pkg-scripts/test.sh), every log line and error an Action produces is appended
// here so one scan can cover the whole suite (see pkg-scripts/scan-secrets.js).
const SCAN_DIR = process.env.SECRET_SCAN_DIR;
function record(kind, text) {
  if (SCAN_DIR && text) fs.appendFileSync(path.join(SCAN_DIR, 'output.jsonl'), JSON.stringify({ kind, text }) + '\n');
}
const allLogs = [];
let consolePatched = false;

// Auth0 captures an Action's console output per execution; attribute lines to the
// execution that wrote them (concurrent executions included) through async context.
function patchConsole() {
  if (consolePatched) return;
  consolePatched = true;
  const original = console.log.bind(console);
  console.log = (...args) => {
    const ctx = als.getStore();
    const line = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    if (!ctx) return original(...args);
    ctx.logs.push(line);
    allLogs.push(line);
    record('log', line);
    if (ctx.echo) original(line);
  };
}

/** Loads an Action file as a fresh module: a new "process" with its own module scope. */
function loadAction(file) {
  const filename = path.resolve(file);
  const m = new Module(filename, null);
  m.filename = filename;
  m.paths = []; // no node_modules: a deployed Action has no dependencies
  m._compile(fs.readFileSync(filename, 'utf8'), filename);
  return m.exports;
}

class ActionsRunner {
  /**
   * @param {object} o emulator (TenantEmulator), actionPath, secrets (event.secrets),
   *   clientId (the application logging in), echo (print the Action's log lines)
   */
  constructor({ emulator, actionPath, secrets, clientId = 'web-app-client', echo = false }) {
    this.emulator = emulator;
    this.actionPath = actionPath;
    this.secrets = secrets;
    this.clientId = clientId;
    this.echo = echo;
    this.caches = { 'post-login': new ActionCache(), 'post-user-registration': new ActionCache() };
    patchConsole();
    this.newProcess();
  }

  /** Every Action log line written so far, across runners (for secret scans). */
  static allLogs() {
    return allLogs;
  }

  /** Simulates a new container: module scope (and the wasm instance) start from scratch. */
  newProcess() {
    this.action = loadAction(this.actionPath);
  }

  /** Simulates Auth0 losing api.cache entries (it is best effort). */
  clearCache() {
    for (const c of Object.values(this.caches)) c.entries.clear();
  }

  baseEvent(user) {
    const e = this.emulator;
    const conn = e.connections.find((c) => c.name === user.connection) || { id: 'con_unknown', name: user.connection, strategy: user.connection };
    const pub = e.publicUser(user);
    return {
      user: {
        user_id: pub.user_id,
        email: pub.email,
        email_verified: pub.email_verified,
        name: pub.name,
        created_at: pub.created_at,
        updated_at: pub.updated_at,
        app_metadata: JSON.parse(JSON.stringify(user.app_metadata)),
        user_metadata: JSON.parse(JSON.stringify(user.user_metadata)),
        identities: pub.identities,
      },
      connection: { id: conn.id, name: conn.name, strategy: conn.strategy, metadata: {} },
      tenant: { id: 'local-emulator' },
      request: { ip: '127.0.0.1', hostname: new URL(e.origin).host, language: 'en' },
      secrets: { ...this.secrets },
    };
  }

  /** One login of an existing user, as Auth0's post-login trigger runs it. */
  async login(userId, { clientId = this.clientId, protocol = 'oidc-basic-profile', secrets, organization, edit } = {}) {
    const user = this.emulator.users.get(userId);
    if (!user) throw new Error(`no such user in the emulator: ${userId}`);
    user.logins_count += 1; // incremented before Actions run
    const event = this.baseEvent(user);
    if (secrets) event.secrets = { ...event.secrets, ...secrets };
    const app = this.emulator.applications.find((a) => a.client_id === clientId) || { client_id: clientId, name: clientId };
    Object.assign(event, {
      client: { client_id: app.client_id, name: app.name, metadata: {} },
      stats: { logins_count: user.logins_count },
      authorization: { roles: this.emulator.roleNames(userId) },
      transaction: { protocol, requested_scopes: ['openid', 'profile', 'email'], locale: 'en' },
    });
    if (organization) event.organization = { id: organization.id, name: organization.name, display_name: organization.name, metadata: {} };
    if (edit) edit(event); // tests: hostile shapes JSON cannot carry (cycles, getters, proxies)
    const rec = { denied: false, denyReason: null, idClaims: {}, accessClaims: {}, appMetadata: {}, userMetadata: {}, mfa: null };
    const api = {
      access: { deny: (reason) => { rec.denied = true; rec.denyReason = reason; return api; } },
      idToken: { setCustomClaim: (k, v) => { rec.idClaims[k] = v; return api; } },
      accessToken: { setCustomClaim: (k, v) => { rec.accessClaims[k] = v; return api; } },
      user: {
        setAppMetadata: (k, v) => { rec.appMetadata[k] = v; return api; },
        setUserMetadata: (k, v) => { rec.userMetadata[k] = v; return api; },
      },
      multifactor: { enable: (provider, opts) => { rec.mfa = { provider, opts }; return api; } },
      cache: this.caches['post-login'],
    };
    const result = await this.execute('onExecutePostLogin', event, api, rec);
    // Auth0 persists api.user metadata changes once, after the execution.
    applyMetadata(user, 'app_metadata', rec.appMetadata);
    applyMetadata(user, 'user_metadata', rec.userMetadata);
    return result;
  }

  /** A database / passwordless sign-up, as the post-user-registration trigger runs it. */
  async register(userId, { edit } = {}) {
    const user = this.emulator.users.get(userId);
    if (!user) throw new Error(`no such user in the emulator: ${userId}`);
    const event = this.baseEvent(user);
    if (edit) edit(event);
    const rec = {};
    const api = { cache: this.caches['post-user-registration'] };
    return this.execute('onExecutePostUserRegistration', event, api, rec);
  }

  async execute(fn, event, api, rec) {
    const firstRequest = this.emulator.requests.length;
    const ctx = { logs: [], echo: this.echo };
    const t0 = performance.now();
    let outcome;
    let threw = null;
    await als.run(ctx, async () => {
      try {
        outcome = await this.action[fn](event, api);
      } catch (e) {
        threw = e;
      }
    });
    const ms = performance.now() - t0;
    record('error', outcome && outcome.error);
    record('threw', threw && String(threw.stack || threw));
    record('deny', rec.denyReason);
    // Sequential executions only: concurrent ones share the emulator's request log.
    const requests = this.emulator.requests.slice(firstRequest).map((r) => ({ route: r.route, path: r.path, status: r.status, body: r.body }));
    return { ...rec, outcome, threw, logs: ctx.logs, requests, ms };
  }
}

function applyMetadata(user, key, changes) {
  if (!Object.keys(changes).length) return;
  const next = { ...user[key] };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined) delete next[k];
    else next[k] = v;
  }
  user[key] = next;
}

module.exports = { ActionsRunner, ActionCache, loadAction, CACHE_LIMITS };
