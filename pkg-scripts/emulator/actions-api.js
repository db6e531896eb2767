'use strict';
// The emulator's Actions endpoints (GET|POST /api/v2/actions/actions, ...), mounted by
// server.js through its routing table: `routes` are [method, path RegExp, handler, scopes],
// each handler (emulator, params, query, body) → {status, body, headers?} served by that
// emulator's ActionsApi (actionsOf(emulator): its own state, made at first use).
//
// Shapes follow tests/fixtures/management-api-v2.subset.openapi.json (Action,
// ActionDeployedVersion, ActionBinding, the paginated lists, the request bodies). What the
// spec does not say, and is modelled on Auth0's observed behaviour:
// - secret values are write-only: responses carry `{name, updated_at}` only;
// - an action targets one trigger (supported_triggers has one item);
// - a new or changed action is `pending` until built; deploying it before then fails with
//   "must be in the 'built' state" (what the Deploy CLI retries on);
// - a deployed version is `pending` then `built`;
// - PATCH .../bindings REPLACES every binding of the trigger, and only a deployed action
//   supporting that trigger can be bound;
// - the Actions list takes no include_totals (unknown query parameters are a 400).
//
// Seeding (optional fixture sections): `actions: [{name, supported_triggers?, code?, runtime?,
// secrets?: [{name, value}], deployed?: true}]` and `trigger_bindings: {"post-login":
// [{action_name, display_name?}]}`. Timing (actionsOf(emu).options, all optional):
// buildPolls — reads that still see `pending` after a change (default 1); buildMs — or
// built after this long (default 400); buildResult — 'built' | 'failed'; maxPerPage — a
// server-side page cap (default 100).
const crypto = require('node:crypto');
const { TRIGGERS, init, newRecord, newVersion, now } = require('./actions-store.js');
const { CREATE_KEYS, UPDATE_KEYS, apiError, badRequest, notFound, isObject, checkSecrets, checkCommon, checkQuery } = require('./actions-checks.js');

class ActionsApi {
  constructor(emulator) {
    this.emulator = emulator;
    /** Timing: buildPolls, buildMs, buildResult, maxPerPage (see the top of this file). */
    this.options = {};
    this.state = null;
  }

  opts() {
    return { buildPolls: 1, buildMs: 400, buildResult: 'built', maxPerPage: 100, ...this.options };
  }

  /** The state, seeded from the emulator's fixture at its first use. */
  store() {
    this.state ||= init(this.emulator.fixture);
    return this.state;
  }

  /** Advances a build (of a draft or a version) when read: pending → built (or failed).
   * `poll`: this read is a GET of the action (a poll); other reads only let time pass. */
  advanceBuild(build, poll = true) {
    if (build.status !== 'pending') return build.status;
    const o = this.opts();
    if (poll) build.polls += 1;
    if (build.polls > o.buildPolls || Date.now() - build.at >= o.buildMs) {
      build.status = o.buildResult;
      build.built_at = now();
    }
    return build.status;
  }

  actionBase(rec) {
    return {
      id: rec.id,
      name: rec.name,
      supported_triggers: rec.supported_triggers,
      all_changes_deployed: !!rec.deployed && rec.deployed.draft === rec.draft,
      created_at: rec.created_at,
      updated_at: rec.updated_at,
    };
  }

  publicVersion(rec, v, poll = true) {
    this.advanceBuild(v.build, poll);
    const out = {
      id: v.id,
      action_id: rec.id,
      code: v.code,
      dependencies: v.dependencies,
      deployed: rec.deployed === v,
      number: v.number,
      runtime: v.runtime,
      secrets: v.secrets,
      status: v.build.status,
      supported_triggers: v.supported_triggers,
      created_at: v.created_at,
      updated_at: v.updated_at,
      action: this.actionBase(rec),
    };
    if (v.build.built_at) out.built_at = v.build.built_at;
    if (v.build.status === 'failed') out.errors = [{ id: 'build_failed', msg: 'The build failed (emulated)' }];
    return out;
  }

  /** The Action as the API shows it: secret values never leave the tenant. */
  publicAction(rec, poll = true) {
    this.advanceBuild(rec.build, poll);
    const out = {
      ...this.actionBase(rec),
      code: rec.code,
      dependencies: rec.dependencies,
      runtime: rec.runtime,
      secrets: rec.secrets.map((s) => ({ name: s.name, updated_at: s.updated_at })),
      status: rec.build.status,
    };
    if (rec.build.built_at) out.built_at = rec.build.built_at;
    if (rec.deployed) out.deployed_version = this.publicVersion(rec, rec.deployed, poll);
    return out;
  }

  listActions(_params, query) {
    const p = checkQuery(query, ['triggerId', 'actionName', 'deployed', 'page', 'per_page', 'installed']);
    if (p.status) return p;
    for (const k of ['deployed', 'installed']) {
      if (query.has(k) && !['true', 'false'].includes(query.get(k))) return badRequest(`Query validation error: invalid ${k}`, 'invalid_query_string');
    }
    const trigger = query.get('triggerId');
    if (trigger !== null && !TRIGGERS.includes(trigger)) return badRequest('Query validation error: invalid triggerId', 'invalid_query_string');
    let list = [...this.store().actions.values()];
    if (query.has('actionName')) list = list.filter((r) => r.name === query.get('actionName'));
    if (trigger) list = list.filter((r) => r.supported_triggers.some((t) => t.id === trigger));
    if (query.get('deployed') === 'true') list = list.filter((r) => r.deployed);
    if (query.get('installed') === 'true') list = [];
    const per_page = Math.min(p.per_page, this.opts().maxPerPage);
    const slice = list.slice(p.page * per_page, (p.page + 1) * per_page);
    return { status: 200, body: { actions: slice.map((r) => this.publicAction(r)), page: p.page, per_page, total: list.length } };
  }

  createAction(_params, _query, body) {
    const bad = checkCommon(body, CREATE_KEYS);
    if (bad) return bad;
    if (typeof body.name !== 'string') return badRequest('Payload validation error: Missing required property: name');
    if (body.supported_triggers === undefined) return badRequest('Payload validation error: Missing required property: supported_triggers');
    if (body.secrets !== undefined) {
      const b = checkSecrets(body.secrets);
      if (b) return b;
    }
    if (body.deploy !== undefined && typeof body.deploy !== 'boolean') return badRequest("Payload validation error: 'deploy' must be a boolean");
    const st = this.store();
    if ([...st.actions.values()].some((r) => r.name === body.name)) {
      return apiError(409, 'Conflict', `An action with the name '${body.name}' already exists.`, 'action_conflict');
    }
    const rec = newRecord(body);
    st.actions.set(rec.id, rec);
    if (body.deploy) {
      rec.build = { status: 'built', at: 0, polls: 0, built_at: now() };
      newVersion(rec);
    }
    return { status: 201, body: this.publicAction(rec, false) };
  }

  getAction([id]) {
    const rec = this.store().actions.get(id);
    if (!rec) return notFound('The action does not exist.');
    return { status: 200, body: this.publicAction(rec) };
  }

  updateAction([id], _query, body) {
    const rec = this.store().actions.get(id);
    if (!rec) return notFound('The action does not exist.');
    const bad = checkCommon(body, UPDATE_KEYS);
    if (bad) return bad;
    if (body.secrets !== undefined) {
      const b = checkSecrets(body.secrets, rec.secrets);
      if (b) return b;
    }
    if (body.name !== undefined && body.name !== rec.name &&
      [...this.store().actions.values()].some((r) => r.name === body.name)) {
      return apiError(409, 'Conflict', `An action with the name '${body.name}' already exists.`, 'action_conflict');
    }
    const t = now();
    if (body.name !== undefined) rec.name = body.name;
    const changes = ['code', 'runtime', 'dependencies', 'supported_triggers', 'secrets'].filter((k) => body[k] !== undefined);
    for (const k of ['code', 'runtime', 'dependencies', 'supported_triggers']) if (body[k] !== undefined) rec[k] = body[k];
    if (body.secrets !== undefined) {
      // The list replaces the secrets; an entry without a value keeps the old value.
      rec.secrets = body.secrets.map((s) => {
        const old = rec.secrets.find((o) => o.name === s.name);
        return s.value === undefined ? old : { name: s.name, value: s.value, updated_at: t };
      });
    }
    rec.updated_at = t;
    if (changes.length) {
      rec.draft += 1;
      rec.build = { status: 'pending', at: Date.now(), polls: 0 };
    }
    return { status: 200, body: this.publicAction(rec, false) };
  }

  deployAction([id]) {
    const rec = this.store().actions.get(id);
    if (!rec) return notFound('The action does not exist.');
    const status = this.advanceBuild(rec.build, false);
    if (status !== 'built') {
      return badRequest(`The action must be in the 'built' state before it can be deployed (it is '${status}').`, 'action_not_built');
    }
    const v = newVersion(rec);
    return { status: 202, body: this.publicVersion(rec, v, false) };
  }

  listBindings([trigger], query) {
    if (!TRIGGERS.includes(trigger)) return badRequest(`Path validation error: invalid triggerId ${trigger}`, 'invalid_uri');
    const p = checkQuery(query, ['page', 'per_page']);
    if (p.status) return p;
    const st = this.store();
    const list = st.bindings[trigger] || [];
    const per_page = Math.min(p.per_page, this.opts().maxPerPage);
    const slice = list.slice(p.page * per_page, (p.page + 1) * per_page);
    return { status: 200, body: { bindings: slice.map((b) => this.publicBinding(trigger, b)), page: p.page, per_page, total: list.length } };
  }

  publicBinding(trigger, b) {
    return {
      id: b.id,
      trigger_id: trigger,
      display_name: b.display_name,
      action: this.publicAction(this.store().actions.get(b.action_id), false),
      created_at: b.created_at,
      updated_at: b.updated_at,
    };
  }

  /** Replaces EVERY binding of the trigger with the list sent. */
  updateBindings([trigger], _query, body) {
    if (!TRIGGERS.includes(trigger)) return badRequest(`Path validation error: invalid triggerId ${trigger}`, 'invalid_uri');
    if (!isObject(body) || Object.keys(body).some((k) => k !== 'bindings') || !Array.isArray(body.bindings)) {
      return badRequest('Payload validation error: expected {"bindings": [...]}');
    }
    const st = this.store();
    const old = st.bindings[trigger] || [];
    const next = [];
    const t = now();
    for (const item of body.bindings) {
      if (!isObject(item) || Object.keys(item).some((k) => !['ref', 'display_name', 'secrets'].includes(k)) ||
        !isObject(item.ref) || typeof item.ref.value !== 'string' ||
        (item.display_name !== undefined && typeof item.display_name !== 'string')) {
        return badRequest('Payload validation error: a binding is {ref: {type, value}, display_name?}');
      }
      const type = item.ref.type === undefined ? 'action_name' : item.ref.type;
      let rec;
      if (type === 'action_id') rec = st.actions.get(item.ref.value);
      else if (type === 'action_name') rec = [...st.actions.values()].find((r) => r.name === item.ref.value);
      else if (type === 'binding_id') {
        const b = old.find((x) => x.id === item.ref.value);
        rec = b && st.actions.get(b.action_id);
      } else return badRequest(`Payload validation error: unknown ref type ${type}`);
      if (!rec) return badRequest(`The action ${type} ${item.ref.value} does not exist.`, 'invalid_binding');
      if (!rec.supported_triggers.some((x) => x.id === trigger)) {
        return badRequest(`The action '${rec.name}' does not support the trigger ${trigger}.`, 'invalid_binding');
      }
      if (!rec.deployed) return badRequest(`The action '${rec.name}' must be deployed before it can be bound.`, 'invalid_binding');
      const kept = old.find((x) => x.action_id === rec.id && !next.some((n) => n.id === x.id));
      next.push({
        id: kept ? kept.id : crypto.randomUUID(),
        action_id: rec.id,
        display_name: item.display_name || rec.name,
        created_at: kept ? kept.created_at : t,
        updated_at: t,
      });
    }
    st.bindings[trigger] = next;
    return { status: 200, body: { bindings: next.map((b) => this.publicBinding(trigger, b)) } };
  }

  /** Test support: an action's secrets with their values, by action name. */
  secrets(name) {
    const rec = [...this.store().actions.values()].find((r) => r.name === name);
    return rec ? Object.fromEntries(rec.secrets.map((s) => [s.name, s.value])) : undefined;
  }

  /** Test support: the action names bound to a trigger, in order. */
  boundNames(trigger) {
    const st = this.store();
    return (st.bindings[trigger] || []).map((b) => st.actions.get(b.action_id).name);
  }
}

/** The emulator's ActionsApi, made at its first use. */
const apis = new WeakMap();
function actionsOf(emulator) {
  if (!apis.has(emulator)) apis.set(emulator, new ActionsApi(emulator));
  return apis.get(emulator);
}

const ID = '([^/]+)';
const serve = (name) => (emulator, params, query, body) => actionsOf(emulator)[name](params, query, body);
const routes = [
  ['GET', /^\/api\/v2\/actions\/actions$/, serve('listActions'), 'read:actions'],
  ['POST', /^\/api\/v2\/actions\/actions$/, serve('createAction'), 'create:actions'],
  ['POST', new RegExp(`^/api/v2/actions/actions/${ID}/deploy$`), serve('deployAction'), 'create:actions'],
  ['GET', new RegExp(`^/api/v2/actions/actions/${ID}$`), serve('getAction'), 'read:actions'],
  ['PATCH', new RegExp(`^/api/v2/actions/actions/${ID}$`), serve('updateAction'), 'update:actions'],
  ['GET', new RegExp(`^/api/v2/actions/triggers/${ID}/bindings$`), serve('listBindings'), 'read:actions'],
  ['PATCH', new RegExp(`^/api/v2/actions/triggers/${ID}/bindings$`), serve('updateBindings'), 'update:actions'],
];

module.exports = { routes, actionsOf };
