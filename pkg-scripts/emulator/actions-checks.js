'use strict';
// What the emulator's Actions endpoints accept (actions-api.js): request bodies and query
// parameters checked as Auth0 checks them, each refusal an Auth0-shaped 4xx.
const { TRIGGERS } = require('./actions-store.js');

const CREATE_KEYS = ['code', 'dependencies', 'deploy', 'modules', 'name', 'runtime', 'secrets', 'supported_triggers'];
const UPDATE_KEYS = ['code', 'dependencies', 'modules', 'name', 'runtime', 'secrets', 'supported_triggers'];
const SECRET_LIMITS = { count: 30, name: 128, value: 4096 };

function apiError(status, error, message, errorCode) {
  const body = { statusCode: status, error, message };
  if (errorCode) body.errorCode = errorCode;
  return { status, body };
}
const badRequest = (message, code = 'invalid_body') => apiError(400, 'Bad Request', message, code);
const notFound = (message) => apiError(404, 'Not Found', message, 'inexistent_action');
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Validates a secrets list of a create/update body; returns an error response or null. */
function checkSecrets(secrets, old = []) {
  if (!Array.isArray(secrets)) return badRequest("Payload validation error: 'secrets' must be an array");
  if (secrets.length > SECRET_LIMITS.count) return badRequest(`Payload validation error: at most ${SECRET_LIMITS.count} secrets`);
  const seen = new Set();
  for (const s of secrets) {
    if (!isObject(s) || typeof s.name !== 'string' || !s.name || s.name.length > SECRET_LIMITS.name) {
      return badRequest('Payload validation error: every secret needs a name (1..128 characters)');
    }
    if (seen.has(s.name)) return badRequest(`Payload validation error: duplicate secret ${s.name}`);
    seen.add(s.name);
    if (s.value === undefined && !old.some((o) => o.name === s.name)) {
      return badRequest(`Payload validation error: secret ${s.name} has no value`);
    }
    if (s.value !== undefined && (typeof s.value !== 'string' || s.value.length > SECRET_LIMITS.value)) {
      return badRequest(`Payload validation error: secret ${s.name} must be a string of at most ${SECRET_LIMITS.value} characters`);
    }
  }
  return null;
}

function checkTriggers(list) {
  if (!Array.isArray(list) || list.length < 1) return badRequest("Payload validation error: 'supported_triggers' needs one trigger");
  if (list.length > 1) return badRequest('Payload validation error: an action can only target a single trigger at a time');
  const t = list[0];
  if (!isObject(t) || !TRIGGERS.includes(t.id)) return badRequest(`Payload validation error: unknown trigger ${isObject(t) ? t.id : t}`);
  if (t.version !== undefined && typeof t.version !== 'string') return badRequest('Payload validation error: trigger version must be a string');
  return null;
}

function checkCommon(body, keys) {
  if (!isObject(body)) return badRequest('Payload validation error: expected an object');
  const extra = Object.keys(body).find((k) => !keys.includes(k));
  if (extra) return badRequest(`Payload validation error: Additional properties not allowed: ${extra}`);
  if (body.name !== undefined && (typeof body.name !== 'string' || !body.name.trim())) return badRequest("Payload validation error: 'name' must be a non-empty string");
  if (body.code !== undefined && typeof body.code !== 'string') return badRequest("Payload validation error: 'code' must be a string");
  if (body.runtime !== undefined && !/^node\d+$/.test(String(body.runtime))) return badRequest(`Payload validation error: unknown runtime ${body.runtime}`);
  if (body.dependencies !== undefined && (!Array.isArray(body.dependencies) ||
    !body.dependencies.every((d) => isObject(d) && typeof d.name === 'string' && typeof d.version === 'string'))) {
    return badRequest("Payload validation error: 'dependencies' must be [{name, version}]");
  }
  if (body.supported_triggers !== undefined) {
    const bad = checkTriggers(body.supported_triggers);
    if (bad) return bad;
  }
  return null;
}

/** Query parameters: only those the operation declares; page/per_page are integers. */
function checkQuery(query, allowed) {
  for (const k of query.keys()) {
    if (!allowed.includes(k)) return badRequest(`Query validation error: Additional properties not allowed: ${k}`, 'invalid_query_string');
  }
  const num = (k, def, min, max) => {
    if (!query.has(k)) return def;
    const n = Number(query.get(k));
    return Number.isInteger(n) && n >= min && n <= max && /^\d+$/.test(query.get(k)) ? n : NaN;
  };
  const page = num('page', 0, 0, 1e6);
  const per_page = num('per_page', 50, 1, 100);
  if (Number.isNaN(page)) return badRequest('Query validation error: invalid page', 'invalid_query_string');
  if (Number.isNaN(per_page)) return badRequest('Query validation error: invalid per_page', 'invalid_query_string');
  return { page, per_page };
}

module.exports = { CREATE_KEYS, UPDATE_KEYS, apiError, badRequest, notFound, isObject, checkSecrets, checkCommon, checkQuery };
