'use strict';
// Decides, and only decides: given what the tenant holds (read.js) and what we deploy, the
// ordered steps a run sends (auth0-deploy-cli's calculateChanges is the model). No I/O: the
// applier (apply.js) carries a plan out, the printer (print.js) shows it.
const { DeployError } = require('../lib/errors.js');
const { TRIGGERS } = require('../lib/triggers.js');
const { FINGERPRINT_RE } = require('./config.js');

/** Where a plan needs the id of an Action that the create step has yet to return. */
const NEW_ACTION_ID = '<id of the new action>';

/** The desired Action for one trigger: `desired` (code, secrets, ...) supporting that trigger. */
function desiredFor(desired, trigger) {
  return { ...desired, supported_triggers: [{ id: trigger, version: TRIGGERS[trigger].version }] };
}

/** The body of the update (PATCH); the create (POST) adds the name. */
function actionBody(desired) {
  return {
    code: desired.code,
    runtime: desired.runtime,
    dependencies: [],
    secrets: desired.secrets,
    supported_triggers: desired.supported_triggers,
  };
}

/** A binding as re-sent in the bindings PATCH. */
function bindingRef(id, displayName) {
  return { ref: { type: 'action_id', value: id }, display_name: displayName };
}

/**
 * What differs between the Action on the tenant and the one we deploy. Auth0 never returns
 * secret values: they are compared by the fingerprint line the last deploy appended.
 */
function actionChanges(existing, desired) {
  const out = [];
  const code = existing.code || '';
  const m = FINGERPRINT_RE.exec(code);
  const base = m ? code.slice(0, m.index) : code;
  if (base !== desired.baseCode) out.push('code');
  const names = (l) => (l || []).map((s) => s.name).sort().join('\n');
  if (names(existing.secrets) !== names(desired.secrets) || !m || m[1] !== desired.fingerprint) out.push('secrets');
  if (existing.runtime !== desired.runtime) out.push('runtime');
  if ((existing.dependencies || []).length) out.push('dependencies');
  const trig = (l) => (l || []).map((t) => `${t.id}@${t.version}`).join(',');
  if (trig(existing.supported_triggers) !== trig(desired.supported_triggers)) out.push('supported_triggers');
  return out;
}

/** Ours: a binding of our Action's id, or of an Action with our name. */
const isOurs = (b, id, name) => !!b.action && (b.action.id === id || b.action.name === name);

/** The bindings API replaces the whole list: one we cannot re-send by id would be lost. */
function refuseUnreferenced(bindings, trigger) {
  for (const b of bindings) {
    if (!b.action || !b.action.id) throw new DeployError(`a ${trigger} binding (${b.display_name || b.id}) has no action id: refusing to rewrite the bindings`);
  }
}

const bindingsPath = (trigger) => `/api/v2/actions/triggers/${trigger}/bindings`;

/**
 * The steps that make the tenant hold `desired` as `name`, deployed and bound to `trigger`
 * after the bindings already there. `existing`: the Action as read (null when absent);
 * `bindings`: the trigger's bindings, in order. Returns {trigger, name, existing, bindings,
 * changes (when it exists), steps}; no steps means up to date.
 */
function planDeploy({ trigger, name, desired, existing, bindings }) {
  const p = { trigger, name, existing, bindings, steps: [] };
  const id = existing ? existing.id : null;
  const body = actionBody(desired);
  if (!existing) {
    p.steps.push({ kind: 'create', method: 'POST', path: '/api/v2/actions/actions', body: { name, ...body } });
    p.steps.push({ kind: 'deploy', waitBuiltFirst: false });
  } else {
    p.changes = actionChanges(existing, desired);
    if (p.changes.length) {
      p.steps.push({ kind: 'update', method: 'PATCH', path: `/api/v2/actions/actions/${id}`, body, changes: p.changes });
      p.steps.push({ kind: 'deploy', waitBuiltFirst: false });
    } else if (!existing.all_changes_deployed || !existing.deployed_version) {
      // A change an interrupted run left undeployed: nothing waited for its build yet.
      p.steps.push({ kind: 'deploy', waitBuiltFirst: true });
    } else if (existing.deployed_version.status !== 'built') {
      p.steps.push({ kind: 'wait-deployed', versionId: existing.deployed_version.id });
    }
  }
  if (!bindings.some((b) => isOurs(b, id, name))) {
    refuseUnreferenced(bindings, trigger);
    p.steps.push({
      kind: 'bind',
      method: 'PATCH',
      path: bindingsPath(trigger),
      // Ours last; its id is NEW_ACTION_ID until the create step has returned it.
      body: { bindings: [...bindings.map((b) => bindingRef(b.action.id, b.display_name)), bindingRef(id || NEW_ACTION_ID, name)] },
    });
  }
  return p;
}

/** The steps that unbind `name` from `trigger`, keeping every other binding in order (and the Action). */
function planUndeploy({ trigger, name, existing, bindings }) {
  const id = existing ? existing.id : null;
  const p = { trigger, name, existing, bindings, steps: [] };
  if (bindings.some((b) => isOurs(b, id, name))) {
    const kept = bindings.filter((b) => !isOurs(b, id, name));
    refuseUnreferenced(kept, trigger);
    p.kept = kept.map((b) => b.display_name || b.action.name);
    p.steps.push({
      kind: 'unbind',
      method: 'PATCH',
      path: bindingsPath(trigger),
      body: { bindings: kept.map((b) => bindingRef(b.action.id, b.display_name)) },
    });
  }
  return p;
}

/** The Management API scopes the steps need (read:actions, needed to plan at all, aside). */
function scopesOf(steps) {
  const s = [];
  for (const st of steps) {
    if (st.kind === 'create' || st.kind === 'deploy') s.push('create:actions');
    if (st.kind === 'update' || st.kind === 'bind' || st.kind === 'unbind') s.push('update:actions');
  }
  return s;
}

module.exports = { NEW_ACTION_ID, desiredFor, actionBody, bindingRef, actionChanges, planDeploy, planUndeploy, scopesOf };
