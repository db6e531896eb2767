'use strict';
// The organizations a policy names (`policy reconcile-roles` lists them as the policy spells
// them: a name, or an id `org_…`), resolved to ids once per run, before anything is written:
// a name through GET /organizations/name/{name} (the Essentials/Professional bucket of that
// endpoint is 10 burst / 100 per minute, so one request per name per run, never per user), an
// id as given (a wrong id shows as a 404 on its first member write, reported then). An
// unknown name refuses the run, naming every one, so no user is half-given access.
const { ConfigError, DeployError } = require('../lib/errors.js');
const { ApiError } = require('../deploy/client.js');
const { checkpointPages } = require('./memberships.js');

/** Auth0's cap on users per POST /organizations/{id}/members (auth0-facts-bulk.md). */
const MEMBERS_PER_REQUEST = 10;

const isOrgId = (s) => /^org_[A-Za-z0-9]+$/.test(s);

/**
 * Map(organization as the policy names it → {id, name}) for `wanted` (strings). Throws a
 * ConfigError naming every name the tenant lacks.
 */
async function resolveOrganizations(client, wanted) {
  const out = new Map();
  const unknown = [];
  for (const key of wanted || []) {
    if (typeof key !== 'string' || !key) throw new DeployError('`policy reconcile-roles`: an organization that is not a non-empty string');
    if (out.has(key)) continue;
    if (isOrgId(key)) {
      out.set(key, { id: key, name: null });
      continue;
    }
    let body;
    try {
      body = await client.call('GET', `/api/v2/organizations/name/${encodeURIComponent(key)}`);
    } catch (e) {
      // 404: no such organization; 400: not a valid organization name (so none has it).
      if (e instanceof ApiError && (e.status === 404 || e.status === 400)) {
        unknown.push(key);
        continue;
      }
      throw e;
    }
    if (!body || typeof body.id !== 'string' || !body.id) throw new DeployError(`GET /api/v2/organizations/name/${key}: unexpected reply (no id)`);
    out.set(key, { id: body.id, name: body.name || key });
  }
  if (unknown.length) {
    throw new ConfigError(`the policy names organizations the tenant lacks: ${unknown.map((n) => `"${n}"`).join(', ')} ` +
      '(join_organization / organization_roles take an organization name as in Dashboard → Organizations, or its id org_…). Nothing was changed.');
  }
  return out;
}

/**
 * Who is a member of each resolved organization, with the role ids held there: GET
 * /organizations/{id}/members?fields=user_id,roles (roles only when the policy gives any) by checkpoint paging (offset paging stops
 * at 1,000), one request per 100 members, never one per user. The core records what is
 * already held instead of writing it again, so a run killed after its organization writes
 * but before their record re-sends nothing. `orgsOf(userId)` is the input line's `orgs`.
 */
async function readOrgMembers(client, orgIds, { roles = true, onPage = () => {} } = {}) {
  // fields=roles needs read:organization_member_roles: asked only when the policy gives roles.
  const fields = roles ? 'user_id,roles' : 'user_id';
  const byOrg = new Map(); // org key → Map(user id → [role ids])
  for (const [key, { id }] of orgIds) {
    const members = new Map();
    const pathname = `/api/v2/organizations/${encodeURIComponent(id)}/members`;
    for await (const page of checkpointPages(client, pathname, 'members', { query: { fields, include_fields: true }, onPage })) {
      for (const m of page) {
        if (!m || typeof m.user_id !== 'string') continue;
        members.set(m.user_id, (Array.isArray(m.roles) ? m.roles : []).map((r) => r && r.id).filter((r) => typeof r === 'string'));
      }
    }
    byOrg.set(key, members);
  }
  return {
    /** {organization as the policy names it: [role ids held]} for the organizations the user is in. */
    orgsOf(userId) {
      const out = {};
      for (const [key, members] of byOrg) if (members.has(userId)) out[key] = members.get(userId);
      return out;
    },
  };
}

module.exports = { resolveOrganizations, readOrgMembers, MEMBERS_PER_REQUEST, isOrgId };
