'use strict';
// The read endpoints the Auth0 Deploy CLI (a0deploy) calls besides the Actions ones, mounted by
// server.js's routing table like actions-api.js: `routes` are [method, path RegExp, handler
// (emulator, params, query, body) → {status, body}, scopes].
// - GET /api/v2/actions/triggers: a0deploy export lists the triggers, then reads the bindings
//   of each; without it the export writes `triggers.json` as [] and still says it succeeded.
// - GET /api/v2/actions/modules: read on every import (module ids for actions using modules).
// - GET /api/v2/clients: read by `import --dry-run` (client names to ids).
//
// Shapes follow tests/fixtures/management-api-v2.subset.openapi.json (ListActionTriggers…,
// GetActionModules…, Client / ListClientsOffsetPaginated… / ListClientsPaginated…). What the
// spec does not say, and is modelled on Auth0's observed behaviour:
// - the triggers list has one entry per trigger: its current version, status CURRENT;
// - unknown query parameters are a 400, as on the Actions endpoints;
// - a client's secret is never returned (Auth0 shows it only with read:client_keys or
//   read:client_credentials; nothing here needs it, and credentials must not leave the tenant
//   in the suite's outputs).
//
// Seeding (optional fixture section): `action_modules: [{name, code?}]`. Clients are the
// fixture's `clients` (machine-to-machine: app_type non_interactive) and `applications`.
const crypto = require('node:crypto');
const { TRIGGERS } = require('./actions-store.js');

// Current trigger versions, as actions-api.js seeds actions without one (a test keeps the two
// in step); the triggers not listed are at v1.
const CURRENT_VERSIONS = { 'post-login': 'v3', 'credentials-exchange': 'v2', 'pre-user-registration': 'v2', 'post-user-registration': 'v2', 'post-change-password': 'v2', 'send-phone-message': 'v2' };
const RUNTIMES = ['node18', 'node22'];

function apiError(status, error, message, errorCode) {
  const body = { statusCode: status, error, message };
  if (errorCode) body.errorCode = errorCode;
  return { status, body };
}
const badQuery = (message) => apiError(400, 'Bad Request', `Query validation error: ${message}`, 'invalid_query_string');

/** Query parameters: only `allowed`; integer ones within [min, max]; booleans true|false. */
function readQuery(query, spec) {
  const out = {};
  for (const k of query.keys()) if (!(k in spec)) return { error: badQuery(`Additional properties not allowed: ${k}`) };
  for (const [k, t] of Object.entries(spec)) {
    if (!query.has(k)) continue;
    const v = query.get(k);
    if (t === 'boolean') {
      if (v !== 'true' && v !== 'false') return { error: badQuery(`invalid ${k}`) };
      out[k] = v === 'true';
    } else if (Array.isArray(t)) {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < t[0] || n > t[1]) return { error: badQuery(`invalid ${k}`) };
      out[k] = n;
    } else out[k] = v;
  }
  return { query: out };
}

const handlers = {
  listTriggers(_params, query) {
    const q = readQuery(query, {});
    if (q.error) return q.error;
    const triggers = TRIGGERS.map((id) => ({
      id,
      version: CURRENT_VERSIONS[id] || 'v1',
      status: 'CURRENT',
      runtimes: RUNTIMES,
      default_runtime: 'node22',
      compatible_triggers: [],
      binding_policy: 'trigger-bound',
    }));
    return { status: 200, body: { triggers } };
  },

  actionModules() {
    this.actionModulesState ||= (this.fixture.action_modules || []).map((m) => {
      const t = new Date().toISOString();
      return { id: crypto.randomUUID(), name: m.name, code: m.code || '', dependencies: [], secrets: [], actions_using_module_total: 0, all_changes_published: true, created_at: t, updated_at: t };
    });
    return this.actionModulesState;
  },

  listActionModules(_params, query) {
    const q = readQuery(query, { page: [0, 1e6], per_page: [1, 100] });
    if (q.error) return q.error;
    const all = this.actionModules();
    // "Paging is disabled if parameter not sent" (the spec, on per_page).
    const per_page = q.query.per_page === undefined ? Math.max(all.length, 1) : q.query.per_page;
    const page = q.query.page || 0;
    return { status: 200, body: { modules: all.slice(page * per_page, (page + 1) * per_page), total: all.length, page, per_page } };
  },

  /** The tenant's clients as GET /clients shows them (Client schema, without the secret). */
  publicClients() {
    const m2m = this.clients.map((c) => ({
      client_id: c.client_id,
      name: c.name || c.client_id,
      app_type: 'non_interactive',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
    }));
    const apps = this.applications.map((a) => ({
      client_id: a.client_id,
      name: a.name || a.client_id,
      app_type: a.app_type || 'regular_web',
      grant_types: ['authorization_code', 'refresh_token'],
      callbacks: a.callbacks || [],
    }));
    return [...m2m, ...apps].map((c) => ({ tenant: 'local-emulator', global: false, is_first_party: true, oidc_conformant: true, ...c }));
  },

  listClients(_params, query) {
    const q = readQuery(query, {
      fields: 'string', include_fields: 'boolean', page: [0, 1e6], per_page: [0, 100], include_totals: 'boolean',
      from: 'string', take: [1, 100], is_global: 'boolean', is_first_party: 'boolean', app_type: 'string',
      external_client_id: 'string', q: 'string',
    });
    if (q.error) return q.error;
    const o = q.query;
    if (o.q !== undefined) return badQuery('q (Lucene search) is not emulated');
    if (o.external_client_id !== undefined && (o.external_client_id.length < 1 || o.external_client_id.length > 120)) return badQuery('invalid external_client_id');
    const checkpoint = o.from !== undefined || o.take !== undefined;
    let list = this.publicClients();
    if (o.is_global !== undefined) list = list.filter((c) => c.global === o.is_global);
    if (o.is_first_party !== undefined) list = list.filter((c) => c.is_first_party === o.is_first_party);
    if (o.app_type !== undefined) list = list.filter((c) => o.app_type.split(',').includes(c.app_type));
    if (o.external_client_id !== undefined) list = list.filter((c) => c.external_client_id === o.external_client_id);
    if (o.fields) {
      const names = o.fields.split(',');
      const keep = o.include_fields === false ? (k) => !names.includes(k) : (k) => names.includes(k);
      list = list.map((c) => Object.fromEntries(Object.entries(c).filter(([k]) => keep(k))));
    }
    if (checkpoint) {
      // `from` is the opaque cursor a previous page returned as `next`.
      const start = o.from === undefined ? 0 : Number(Buffer.from(o.from, 'base64url').toString());
      if (!Number.isInteger(start) || start < 0) return badQuery('invalid from');
      const take = o.take || 50;
      const body = { clients: list.slice(start, start + take) };
      if (start + take < list.length) body.next = Buffer.from(String(start + take)).toString('base64url');
      return { status: 200, body };
    }
    const per_page = o.per_page === undefined ? 50 : o.per_page;
    const start = (o.page || 0) * per_page;
    const clients = list.slice(start, start + per_page);
    return { status: 200, body: o.include_totals ? { start, limit: per_page, total: list.length, clients } : clients };
  },
};

// Each emulator gets its own view of these handlers (its state, e.g. the modules list, kept
// there), so the emulator's prototype is never patched.
const views = new WeakMap();
function viewOf(emu) {
  if (!views.has(emu)) views.set(emu, Object.assign(Object.create(emu), handlers));
  return views.get(emu);
}
const serve = (name) => (emu, params, query, body) => viewOf(emu)[name](params, query, body);

const routes = [
  ['GET', /^\/api\/v2\/actions\/triggers$/, serve('listTriggers'), 'read:actions'],
  ['GET', /^\/api\/v2\/actions\/modules$/, serve('listActionModules'), 'read:actions'],
  ['GET', /^\/api\/v2\/clients$/, serve('listClients'), 'read:clients read:client_keys read:client_credentials read:client_summary'],
];

module.exports = { routes, handlers, viewOf };
