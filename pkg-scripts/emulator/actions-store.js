'use strict';
// The emulator's Actions state (actions-api.js serves it): an Action is a record with a
// draft (its current code, secrets, triggers), the build of that draft, and the versions
// deployed from it; a binding points at a record by id. Seeded from the fixture's `actions`
// and `trigger_bindings` sections.
const crypto = require('node:crypto');

const TRIGGERS = ['post-login', 'credentials-exchange', 'pre-user-registration', 'post-user-registration',
  'post-change-password', 'send-phone-message', 'custom-phone-provider', 'custom-email-provider',
  'password-reset-post-challenge', 'custom-token-exchange', 'event-stream', 'password-hash-migration',
  'login-post-identifier', 'signup-post-identifier'];
const TRIGGER_VERSIONS = { 'post-login': 'v3', 'post-user-registration': 'v2', 'pre-user-registration': 'v2', 'credentials-exchange': 'v2', 'post-change-password': 'v2', 'send-phone-message': 'v2' };
const now = () => new Date().toISOString();

function init(fixture) {
  const st = { actions: new Map(), bindings: {} };
  for (const a of fixture.actions || []) {
    const trigger = (a.supported_triggers && a.supported_triggers[0]) || { id: 'post-login', version: 'v3' };
    const rec = newRecord({
      name: a.name,
      supported_triggers: [{ id: trigger.id, version: trigger.version || TRIGGER_VERSIONS[trigger.id] || 'v1' }],
      code: a.code || 'exports.onExecutePostLogin = async () => {};',
      runtime: a.runtime || 'node22',
      dependencies: a.dependencies || [],
      secrets: (a.secrets || []).map((s) => ({ name: s.name, value: s.value || '' })),
    }, a.id);
    rec.build = { status: 'built', at: 0, polls: 0, built_at: rec.created_at };
    if (a.deployed !== false) {
      const v = newVersion(rec);
      v.build = { status: 'built', at: 0, polls: 0, built_at: rec.created_at };
    }
    st.actions.set(rec.id, rec);
  }
  for (const [trigger, list] of Object.entries(fixture.trigger_bindings || {})) {
    st.bindings[trigger] = list.map((b) => {
      const rec = [...st.actions.values()].find((r) => r.id === b.action_id || r.name === b.action_name);
      if (!rec) throw new Error(`fixture trigger_bindings: no action ${b.action_name || b.action_id}`);
      const t = now();
      return { id: crypto.randomUUID(), action_id: rec.id, display_name: b.display_name || rec.name, created_at: t, updated_at: t };
    });
  }
  return st;
}

function newRecord(fields, id) {
  const t = now();
  return {
    id: id || crypto.randomUUID(),
    name: fields.name,
    supported_triggers: fields.supported_triggers,
    code: fields.code === undefined ? '' : fields.code,
    runtime: fields.runtime || 'node22',
    dependencies: fields.dependencies || [],
    secrets: (fields.secrets || []).map((s) => ({ name: s.name, value: s.value, updated_at: t })),
    created_at: t,
    updated_at: t,
    draft: 1, // bumped by every change; a deployed version remembers the draft it was made from
    build: { status: 'pending', at: Date.now(), polls: 0 },
    versions: [],
    deployed: null,
  };
}

function newVersion(rec) {
  const t = now();
  const v = {
    id: crypto.randomUUID(),
    number: rec.versions.length + 1,
    draft: rec.draft,
    code: rec.code,
    runtime: rec.runtime,
    dependencies: JSON.parse(JSON.stringify(rec.dependencies)),
    secrets: rec.secrets.map((s) => ({ name: s.name, updated_at: s.updated_at })),
    supported_triggers: JSON.parse(JSON.stringify(rec.supported_triggers)),
    created_at: t,
    updated_at: t,
    build: { status: 'pending', at: Date.now(), polls: 0 },
  };
  rec.versions.push(v);
  rec.deployed = v;
  return v;
}

module.exports = { TRIGGERS, init, newRecord, newVersion, now };
