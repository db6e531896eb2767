'use strict';
// The tenant roles a policy names, and who holds them: GET /roles (paged) resolves the
// names and ids the core lists (`policy reconcile-roles`), then GET /roles/{id}/users in
// checkpoint paging (from/take; offset paging stops at 1,000) reads each role's members —
// one request per 100 members, never one per user. What is held in memory for the whole run
// is these membership sets; users stream through.
const { ConfigError, DeployError } = require('../lib/errors.js');

const TAKE = 100;

const loose = (s) => s.trim().replace(/\s+/g, ' ').toLowerCase();

/** Every tenant role: [{id, name}] (GET /roles, 100 a page). */
async function listRoles(client) {
  const roles = [];
  for (let page = 0; ; page++) {
    const body = await client.call('GET', '/api/v2/roles', { query: { per_page: 100, page, include_totals: true } });
    if (!body || !Array.isArray(body.roles)) throw new DeployError('GET /api/v2/roles: unexpected reply (no roles list)');
    roles.push(...body.roles.map(({ id, name }) => ({ id, name })));
    if (!body.roles.length || roles.length >= body.total) return roles;
  }
}

/**
 * The roles table the core takes: each name the policy uses must be exactly one tenant role,
 * each id must exist; a miss is a ConfigError naming every problem (near-misses by case or
 * whitespace included) before anything else is read.
 */
function resolveRoles(wanted, tenantRoles) {
  const table = [];
  const problems = [];
  const add = (r) => { if (!table.some((t) => t.id === r.id)) table.push({ id: r.id, name: r.name }); };
  for (const name of wanted.names || []) {
    const exact = tenantRoles.filter((r) => r.name === name);
    if (exact.length === 1) add(exact[0]);
    else if (exact.length > 1) problems.push(`role "${name}" names ${exact.length} roles (${exact.map((r) => r.id).join(', ')}): use a role id in the policy`);
    else {
      const near = tenantRoles.filter((r) => loose(r.name) === loose(name)).map((r) => JSON.stringify(r.name));
      problems.push(`no role is named "${name}"${near.length ? ` (differs by case or whitespace: ${near.join(', ')})` : ''}`);
    }
  }
  for (const id of wanted.ids || []) {
    const r = tenantRoles.find((x) => x.id === id);
    if (r) add(r);
    else problems.push(`no role has the id ${id}`);
  }
  if (problems.length) throw new ConfigError(`the policy names roles the tenant lacks:\n  ${problems.join('\n  ')}\nNothing was read or changed.`);
  return table;
}

/**
 * The `key` items of every page of `pathname` by checkpoint paging (take/from), a page at a
 * time; `onPage(n)` after each page. A reply without that list, or a `next` that repeats, is
 * an error (it would loop or lose members).
 */
async function *checkpointPages(client, pathname, key, { query = {}, onPage = () => {} } = {}) {
  let from;
  const seen = new Set();
  for (;;) {
    const body = await client.call('GET', pathname, { query: { take: TAKE, from, ...query } });
    if (!body || Array.isArray(body) || !Array.isArray(body[key])) {
      throw new DeployError(`GET ${pathname}: unexpected reply (expected checkpoint paging: {${key}, next?})`);
    }
    yield body[key];
    onPage(body[key].length);
    if (typeof body.next !== 'string' || !body.next) return;
    if (seen.has(body.next)) throw new DeployError(`GET ${pathname}: the checkpoint ${JSON.stringify(body.next)} came back twice`);
    seen.add(body.next);
    from = body.next;
  }
}

/** Members of one role: a Set of user ids, by checkpoint paging. */
async function roleMembers(client, role, { onPage } = {}) {
  const members = new Set();
  for await (const users of checkpointPages(client, `/api/v2/roles/${encodeURIComponent(role.id)}/users`, 'users', { onPage })) {
    for (const u of users) if (u && typeof u.user_id === 'string') members.add(u.user_id);
  }
  return members;
}

/** Holders of every role in the table: {table, members: Map(role id → Set), rolesOf(userId)}. */
async function readMemberships(client, table, { onPage } = {}) {
  const members = new Map();
  for (const role of table) members.set(role.id, await roleMembers(client, role, { onPage }));
  return {
    table,
    members,
    /** The table's role ids the user holds, in table order. */
    rolesOf: (userId) => table.filter((r) => members.get(r.id).has(userId)).map((r) => r.id),
    size: () => [...members.values()].reduce((n, s) => n + s.size, 0),
  };
}

module.exports = { listRoles, resolveRoles, roleMembers, readMemberships, checkpointPages, TAKE };
