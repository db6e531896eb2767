'use strict';
// The emulator's bulk user endpoints, mounted by server.js like actions-api.js (routes are
// [method, path RegExp, handler(emulator, params, query, body), scopes]):
//   GET  /api/v2/users             offset paging (page from 0, per_page 0..100, default 50),
//                                  include_totals {start, limit, length, total, users};
//                                  fields/include_fields; at most the first 1,000 records.
//   GET  /api/v2/roles/{id}/users  offset paging (per_page 1..100, capped at 1,000 results,
//                                  include_totals {start, limit, total, users}) or checkpoint
//                                  paging (from/take 1..100 → {next?, users}).
//   POST /api/v2/roles/{id}/users  {"users": [...]} → 200; 404 (nothing assigned) if the role
//                                  or any listed user does not exist; already-held is a no-op.
// Facts: shared/reference/auth0-facts-bulk.md; shapes: the OpenAPI subset. Not emulated: `q`,
// `sort`, `connection` and the other search parameters (a 400 says so rather than ignoring).
const crypto = require('node:crypto');
const { apiError } = require('./actions-checks.js');

const OFFSET_CAP = 1000;
const MAX_USER_ID = 255;
const badQuery = (message) => apiError(400, 'Bad Request', `Query validation error: ${message}`, 'invalid_query_string');
const pagingCap = (message) => apiError(400, 'Bad Request', message, 'invalid_paging');
const noRole = () => apiError(404, 'Not Found', 'The role does not exist.', 'inexistent_role');

/**
 * The query's parameters checked: only `allowed` names, each once; integers as digits within
 * their range; booleans as true/false. Returns {values} or {error}.
 */
function readQuery(query, spec) {
  const values = {};
  for (const name of new Set(query.keys())) {
    const kind = spec[name];
    if (!kind) return { error: badQuery(`the emulator does not take '${name}' (it takes ${Object.keys(spec).join(', ')})`) };
    const all = query.getAll(name);
    if (all.length > 1) return { error: badQuery(`'${name}' given more than once`) };
    const v = all[0];
    if (Array.isArray(kind)) {
      if (!/^\d{1,9}$/.test(v) || Number(v) < kind[0] || Number(v) > kind[1]) {
        return { error: badQuery(`'${name}' must be an integer from ${kind[0]} to ${kind[1]}`) };
      }
      values[name] = Number(v);
    } else if (kind === 'boolean') {
      if (v !== 'true' && v !== 'false') return { error: badQuery(`'${name}' must be true or false`) };
      values[name] = v === 'true';
    } else {
      values[name] = v;
    }
  }
  return { values };
}

/** A user as GET /users and the export show it: publicUser plus the profile fields it has. */
function userView(emu, u) {
  const out = emu.publicUser(u);
  for (const k of ['picture', 'nickname', 'last_login']) if (u[k] !== undefined) out[k] = u[k];
  return out;
}

/** `fields`/`include_fields` applied to a user view. */
function pickFields(view, fields, include) {
  if (!fields) return view;
  const names = new Set(fields.split(',').map((s) => s.trim()).filter(Boolean));
  const out = {};
  for (const [k, v] of Object.entries(view)) if (names.has(k) === include) out[k] = v;
  return out;
}

function listUsers(emu, _params, query) {
  const q = readQuery(query, {
    page: [0, 1e9], per_page: [0, 100], include_totals: 'boolean', fields: 'string', include_fields: 'boolean', search_engine: 'string',
  });
  if (q.error) return q.error;
  const { page = 0, per_page = 50, include_totals = false, fields, include_fields = true, search_engine } = q.values;
  if (search_engine !== undefined && search_engine !== 'v3') return badQuery("'search_engine' must be v3 (v1 and v2 are retired)");
  const start = page * per_page;
  if (start + per_page > OFFSET_CAP) {
    return pagingCap('You can only page through the first 1000 records. See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation');
  }
  const users = [];
  let seen = 0;
  for (const pos of emu.users.positions()) {
    if (users.length >= per_page) break;
    if (seen++ < start) continue;
    users.push(pickFields(userView(emu, emu.users.at(pos)), fields, include_fields));
  }
  if (!include_totals) return { status: 200, body: users };
  return { status: 200, body: { start, limit: per_page, length: users.length, total: emu.users.size, users } };
}

/** RoleUser: {user_id, email, picture, name}, the keys the user has. */
function roleUser(u) {
  const out = { user_id: u.user_id };
  for (const k of ['email', 'picture', 'name']) if (u[k] !== undefined) out[k] = u[k];
  return out;
}

// Checkpoint ids: opaque to clients, bound to the role (or another list's scope string:
// organizations-api.js), refused when altered.
const cursorKeys = new WeakMap();
function cursorKey(emu) {
  if (!cursorKeys.has(emu)) cursorKeys.set(emu, crypto.randomBytes(32));
  return cursorKeys.get(emu);
}
const mac = (emu, roleId, pos) => crypto.createHmac('sha256', cursorKey(emu)).update(`${roleId}\n${pos}`).digest('base64url').slice(0, 16);
function encodeCursor(emu, roleId, pos) {
  return Buffer.from(`${pos}.${mac(emu, roleId, pos)}`).toString('base64url');
}
function decodeCursor(emu, roleId, from) {
  const m = /^(\d{1,10})\.([A-Za-z0-9_-]{16})$/.exec(Buffer.from(from, 'base64url').toString('latin1'));
  if (!m || !/^[A-Za-z0-9_-]+$/.test(from)) return -1;
  const pos = Number(m[1]);
  const want = Buffer.from(mac(emu, roleId, pos));
  return crypto.timingSafeEqual(want, Buffer.from(m[2])) ? pos : -1;
}

function listRoleUsers(emu, [roleId], query) {
  const q = readQuery(query, { page: [0, 1e9], per_page: [1, 100], include_totals: 'boolean', from: 'string', take: [1, 100] });
  if (q.error) return q.error;
  const v = q.values;
  if (!emu.roles.some((r) => r.id === roleId)) return noRole();
  const checkpoint = v.from !== undefined || v.take !== undefined;
  if (checkpoint && (v.page !== undefined || v.per_page !== undefined)) {
    return badQuery('use either offset paging (page, per_page) or checkpoint paging (from, take), not both');
  }
  if (checkpoint) {
    const take = v.take === undefined ? 50 : v.take;
    let from = 0;
    if (v.from !== undefined) {
      const pos = decodeCursor(emu, roleId, v.from);
      if (pos < 0) return badQuery("'from' is not a checkpoint id this endpoint gave for this role");
      from = pos + 1;
    }
    // One more than asked: `next` only when there is a next page.
    const found = emu.users.roleMembers(roleId, from, take + 1);
    const page = found.slice(0, take);
    const body = { users: page.map(([, u]) => roleUser(u)) };
    if (found.length > take) body.next = encodeCursor(emu, roleId, page[page.length - 1][0]);
    return { status: 200, body };
  }
  const page = v.page || 0;
  const per_page = v.per_page === undefined ? 50 : v.per_page;
  const start = page * per_page;
  if (start + per_page > OFFSET_CAP) {
    return pagingCap('Offset pagination reaches the first 1000 results only; use checkpoint pagination (from, take) for more.');
  }
  // Positions grow with the member count, so the first `start` members are skipped by scanning.
  const users = emu.users.rolePositions(roleId, 0, start + per_page).slice(start).map((pos) => roleUser(emu.users.at(pos)));
  if (!v.include_totals) return { status: 200, body: users };
  return { status: 200, body: { start, limit: per_page, total: emu.users.roleCount(roleId), users } };
}

function assignRoleUsers(emu, [roleId], _query, body) {
  const ok = body && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).every((k) => k === 'users') &&
    Array.isArray(body.users) && body.users.length >= 1 &&
    body.users.every((u) => typeof u === 'string' && u.length >= 1 && u.length <= MAX_USER_ID);
  if (!ok) return apiError(400, 'Bad Request', `Payload validation error: expected {"users": [user ids of 1..${MAX_USER_ID} characters, at least one]}`, 'invalid_body');
  if (!emu.roles.some((r) => r.id === roleId)) return noRole();
  const unknown = body.users.find((id) => !emu.users.has(id));
  if (unknown !== undefined) return apiError(404, 'Not Found', `The user does not exist: ${unknown}`, 'inexistent_user');
  for (const id of body.users) {
    const u = emu.users.get(id);
    if (!u.roles.includes(roleId)) u.roles.push(roleId);
  }
  return { status: 200 };
}

const ID = '([^/]+)';
const routes = [
  ['GET', /^\/api\/v2\/users$/, listUsers, 'read:users'],
  ['GET', new RegExp(`^/api/v2/roles/${ID}/users$`), listRoleUsers, 'read:users read:roles read:role_members'],
  ['POST', new RegExp(`^/api/v2/roles/${ID}/users$`), assignRoleUsers, 'update:roles create:role_members'],
];

module.exports = { routes, userView, readQuery, OFFSET_CAP, encodeCursor, decodeCursor };
