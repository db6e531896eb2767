'use strict';
// The emulator's organization endpoints, mounted by server.js like users-api.js (state:
// organizations-store.js). Paging is offset (page 0..1000, per_page 1..100, default 50;
// include_totals → {start, limit, total, <key>}) or, where the spec has it, checkpoint
// (from/take 1..100 → {<key>, next?}); both at once is a 400.
//   GET    /organizations                            offset (first 1,000 only) or checkpoint
//   GET    /organizations/{id}                       404 inexistent_organization when unknown
//   GET    /organizations/name/{name}                404 when unknown, 400 when not a name
//   GET    /organizations/{id}/members               offset capped at 1,000 (400 invalid_paging
//                                                    beyond), checkpoint for all; fields/
//                                                    include_fields; fields=roles needs
//                                                    read:organization_member_roles
//   POST   /organizations/{id}/members               {"members": [1..10 user ids]} → 204;
//                                                    already a member: no-op; an unknown user → 400
//   DELETE /organizations/{id}/members               {"members": [1..10]} → 204 (non-members: no-op;
//                                                    the membership's organization roles go too)
//   GET    /organizations/{id}/members/{user}/roles  offset paging; 404 when not a member
//   POST   /organizations/{id}/members/{user}/roles  {"roles": [...]} → 204; 409 past 50 roles
//   DELETE /organizations/{id}/members/{user}/roles  {"roles": [...]} → 204
//   GET    /users/{id}/organizations                 offset paging; 404 unknown user
// Facts: shared/reference/auth0-facts-bulk.md › Organization members; statuses: the OpenAPI
// subset. Decided here: the subset documents no 404 for the member/role writes, so a user
// who does not exist (POST members) or is not a member (member-role writes) is a 400, while an
// unknown organization is a 404 on every /organizations/{id} route (as on its reads); role ids
// must exist (400); `sort` and read:organizations_summary are not emulated (400 / 403).
const { apiError } = require('./actions-checks.js');
const { readQuery, encodeCursor, decodeCursor, OFFSET_CAP } = require('./users-api.js');
const { organizationsOf, organizationView, ORG_NAME, MEMBER_ROLE_CAP } = require('./organizations-store.js');

/** Auth0's per-request cap on POST and DELETE /organizations/{id}/members. */
const MEMBERS_PER_REQUEST = 10;
const MAX_USER_ID = 255;
const PAGE = { page: [0, 1000], per_page: [1, 100], include_totals: 'boolean' };
const CHECKPOINT = { from: 'string', take: [1, 100] };

const badQuery = (message) => apiError(400, 'Bad Request', `Query validation error: ${message}`, 'invalid_query_string');
const badBody = (message) => apiError(400, 'Bad Request', `Payload validation error: ${message}`, 'invalid_body');
const noOrg = () => apiError(404, 'Not Found', 'No organization found by that id', 'inexistent_organization');
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Offset or checkpoint paging of `items` (each with a numeric `pos`). `scope` binds the
 * checkpoint ids to this list; `cap` refuses offset pages reaching past it. Returns a reply.
 */
function paged(emu, values, items, { key, view, scope, cap = Infinity }) {
  const checkpoint = values.from !== undefined || values.take !== undefined;
  if (checkpoint && (values.page !== undefined || values.per_page !== undefined || values.include_totals !== undefined)) {
    return badQuery('use either offset paging (page, per_page, include_totals) or checkpoint paging (from, take), not both');
  }
  if (checkpoint) {
    let after = -1;
    if (values.from !== undefined) {
      after = decodeCursor(emu, scope, values.from);
      if (after < 0) return badQuery("'from' is not a checkpoint id this endpoint gave for this list");
    }
    const take = values.take === undefined ? 50 : values.take;
    const first = firstAfter(items, after);
    const page = items.slice(first, first + take);
    const body = { [key]: page.map(view) };
    if (first + take < items.length) body.next = encodeCursor(emu, scope, page[page.length - 1].pos);
    return { status: 200, body };
  }
  const per_page = values.per_page === undefined ? 50 : values.per_page;
  const start = (values.page || 0) * per_page;
  if (start + per_page > cap) {
    return apiError(400, 'Bad Request', `Offset pagination reaches the first ${cap} results only; use checkpoint pagination (from, take) for more.`, 'invalid_paging');
  }
  const list = items.slice(start, start + per_page).map(view);
  if (!values.include_totals) return { status: 200, body: list };
  return { status: 200, body: { [key]: list, start, limit: per_page, total: items.length } };
}

/** The index of the first item whose pos is greater than `after` (items sorted by pos). */
function firstAfter(items, after) {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid].pos <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function listOrganizations(emu, _params, query) {
  const q = readQuery(query, { ...PAGE, ...CHECKPOINT });
  if (q.error) return q.error;
  organizationsOf(emu); // checks the fixture's organizations at first use
  const items = emu.organizations.map((org, pos) => ({ org, pos }));
  return paged(emu, q.values, items, { key: 'organizations', view: (x) => organizationView(x.org), scope: 'organizations', cap: OFFSET_CAP });
}

function getOrganization(emu, [id]) {
  const org = organizationsOf(emu).byId(id);
  return org ? { status: 200, body: organizationView(org) } : noOrg();
}

function getOrganizationByName(emu, [name]) {
  if (!ORG_NAME.test(name)) return badQuery('an organization name is 1..50 lower-case letters, digits, - and _');
  const org = organizationsOf(emu).byName(name);
  return org ? { status: 200, body: organizationView(org) } : apiError(404, 'Not Found', 'No organization found by that name', 'inexistent_organization');
}

const MEMBER_FIELDS = ['user_id', 'email', 'picture', 'name', 'roles'];

function listMembers(emu, [id], query, _body, entry) {
  const q = readQuery(query, { ...PAGE, ...CHECKPOINT, fields: 'string', include_fields: 'boolean' });
  if (q.error) return q.error;
  const store = organizationsOf(emu);
  const org = store.byId(id);
  if (!org) return noOrg();
  const { fields, include_fields = true } = q.values;
  let shown = new Set(MEMBER_FIELDS.filter((f) => f !== 'roles'));
  if (fields !== undefined) {
    const names = fields.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.find((n) => !MEMBER_FIELDS.includes(n));
    if (unknown !== undefined) return badQuery(`'fields' takes ${MEMBER_FIELDS.join(', ')}, not '${unknown}'`);
    shown = new Set(MEMBER_FIELDS.filter((f) => names.includes(f) === include_fields));
  }
  if (shown.has('roles') && !hasScope(entry, 'read:organization_member_roles')) {
    return apiError(403, 'Forbidden', 'Insufficient scope, expected any of: read:organization_member_roles (for fields=roles)', 'insufficient_scope');
  }
  const view = (m) => {
    const u = emu.users.peek(m.user_id) || {};
    const out = {};
    for (const f of shown) {
      if (f === 'roles') out.roles = m.roles.map((r) => emu.roles.find((x) => x.id === r)).filter(Boolean).map((r) => ({ id: r.id, name: r.name }));
      else if (f === 'user_id') out.user_id = m.user_id;
      else if (u[f] !== undefined) out[f] = u[f];
    }
    return out;
  };
  const items = store.members(org).map((m) => ({ ...m, pos: m.seq }));
  return paged(emu, q.values, items, { key: 'members', view, scope: `organization-members:${org.id}`, cap: OFFSET_CAP });
}

/** Whether the request's token holds the scope (server.js puts the token's scopes on the entry). */
function hasScope(entry, scope) {
  return !!(entry && Array.isArray(entry.scopes) && entry.scopes.includes(scope));
}

/** A {"members": [...]} body checked: 1..10 user ids of 1..255 characters, nothing else. */
function membersBody(body) {
  if (!isObject(body) || !Array.isArray(body.members) || Object.keys(body).some((k) => k !== 'members')) {
    return { error: badBody('expected {"members": [user ids]}') };
  }
  const m = body.members;
  if (m.length < 1) return { error: badBody("'members' needs at least one user id") };
  if (m.length > MEMBERS_PER_REQUEST) return { error: badBody(`'members' takes at most ${MEMBERS_PER_REQUEST} user ids per request, not ${m.length}`) };
  if (!m.every((u) => typeof u === 'string' && u.length >= 1 && u.length <= MAX_USER_ID)) {
    return { error: badBody(`every member is a user id of 1..${MAX_USER_ID} characters`) };
  }
  return { members: [...new Set(m)] };
}

function addMembers(emu, [id], _query, body) {
  const b = membersBody(body);
  if (b.error) return b.error;
  const store = organizationsOf(emu);
  const org = store.byId(id);
  if (!org) return noOrg();
  // All or nothing: a user who does not exist refuses the whole request.
  const unknown = b.members.find((u) => !emu.users.has(u));
  if (unknown !== undefined) return apiError(400, 'Bad Request', `One or more users do not exist: ${unknown}`, 'inexistent_user');
  for (const u of b.members) store.join(org, u);
  return { status: 204 };
}

function removeMembers(emu, [id], _query, body) {
  const b = membersBody(body);
  if (b.error) return b.error;
  const store = organizationsOf(emu);
  const org = store.byId(id);
  if (!org) return noOrg();
  for (const u of b.members) store.leave(org, u);
  return { status: 204 };
}

/** A {"roles": [...]} body checked: at least one role id, nothing else. */
function rolesBody(body) {
  const ok = isObject(body) && Object.keys(body).every((k) => k === 'roles') && Array.isArray(body.roles) && body.roles.length >= 1 &&
    body.roles.every((r) => typeof r === 'string' && r.length >= 1 && r.length <= 50);
  if (!ok) return { error: badBody('expected {"roles": [role ids, at least one]}') };
  return { roles: [...new Set(body.roles)] };
}

/** The organization and the membership of a member-roles route, or an error reply. */
function membership(emu, id, userId, notMember) {
  const store = organizationsOf(emu);
  const org = store.byId(id);
  if (!org) return { error: noOrg() };
  const m = store.member(org, userId);
  if (!m) return { error: notMember() };
  return { store, org, m };
}

function listMemberRoles(emu, [id, userId], query) {
  const q = readQuery(query, PAGE);
  if (q.error) return q.error;
  const r = membership(emu, id, userId, () => apiError(404, 'Not Found', 'The user is not a member of the organization.', 'inexistent_organization_member'));
  if (r.error) return r.error;
  const items = r.m.roles.map((rid, pos) => ({ role: emu.roles.find((x) => x.id === rid), pos })).filter((x) => x.role);
  return paged(emu, q.values, items, { key: 'roles', view: ({ role }) => ({ id: role.id, name: role.name, description: role.description || '' }), scope: 'none' });
}

const notMemberWrite = () => apiError(400, 'Bad Request', 'The user is not a member of the organization.', 'inexistent_organization_member');

/** A member-roles write's checks (body, membership, existing roles): {error} or {b, r}. */
function memberRolesWrite(emu, id, userId, body) {
  const b = rolesBody(body);
  if (b.error) return b;
  const r = membership(emu, id, userId, notMemberWrite);
  if (r.error) return r;
  const unknown = b.roles.find((x) => !emu.roles.some((role) => role.id === x));
  if (unknown !== undefined) return { error: apiError(400, 'Bad Request', `One or more roles do not exist: ${unknown}`, 'invalid_body') };
  return { b, r };
}

function assignMemberRoles(emu, [id, userId], _query, body) {
  const w = memberRolesWrite(emu, id, userId, body);
  if (w.error) return w.error;
  const { b, r } = w;
  const after = r.store.rolesAfter(r.org, userId, b.roles);
  if (after > MEMBER_ROLE_CAP) {
    return apiError(409, 'Conflict', `A member can hold at most ${MEMBER_ROLE_CAP} roles in an organization (this would make ${after}); none were assigned.`, 'too_many_entities');
  }
  r.store.grant(r.org, userId, b.roles);
  return { status: 204 };
}

function removeMemberRoles(emu, [id, userId], _query, body) {
  const w = memberRolesWrite(emu, id, userId, body);
  if (w.error) return w.error;
  const { b, r } = w;
  r.store.revoke(r.org, userId, b.roles);
  return { status: 204 };
}

function listUserOrganizations(emu, [userId], query) {
  const q = readQuery(query, PAGE);
  if (q.error) return q.error;
  if (!emu.users.has(userId)) return apiError(404, 'Not Found', 'The user does not exist.', 'inexistent_user');
  const items = organizationsOf(emu).organizationsOf(userId).map((org, pos) => ({ org, pos }));
  return paged(emu, q.values, items, { key: 'organizations', view: (x) => organizationView(x.org), scope: 'none' });
}

const ID = '([^/]+)';
const ORG = `^/api/v2/organizations/${ID}`;
const routes = [
  ['GET', /^\/api\/v2\/organizations$/, listOrganizations, 'read:organizations'],
  ['GET', new RegExp(`^/api/v2/organizations/name/${ID}$`), getOrganizationByName, 'read:organizations'],
  ['GET', new RegExp(`${ORG}$`), getOrganization, 'read:organizations'],
  ['GET', new RegExp(`${ORG}/members$`), listMembers, 'read:organization_members'],
  ['POST', new RegExp(`${ORG}/members$`), addMembers, 'create:organization_members'],
  ['DELETE', new RegExp(`${ORG}/members$`), removeMembers, 'delete:organization_members'],
  ['GET', new RegExp(`${ORG}/members/${ID}/roles$`), listMemberRoles, 'read:organization_member_roles'],
  ['POST', new RegExp(`${ORG}/members/${ID}/roles$`), assignMemberRoles, 'create:organization_member_roles'],
  ['DELETE', new RegExp(`${ORG}/members/${ID}/roles$`), removeMemberRoles, 'delete:organization_member_roles'],
  ['GET', new RegExp(`^/api/v2/users/${ID}/organizations$`), listUserOrganizations, 'read:organizations'],
];

module.exports = { routes, MEMBERS_PER_REQUEST };
