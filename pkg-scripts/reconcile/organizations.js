'use strict';
// The organizations a policy names (`policy reconcile-roles` lists them as the policy spells
// them: a name, or an id `org_…`), resolved to ids once per run, before anything is written:
// a name through GET /organizations/name/{name} (the Essentials/Professional bucket of that
// endpoint is 10 burst / 100 per minute, so one request per name per run, never per user), an
// id as given (a wrong id shows as a 404 on its first member write, reported then). An
// unknown name refuses the run, naming every one, so no user is half-given access.
const { ConfigError, DeployError } = require('../lib/errors.js');
const { ApiError } = require('../deploy/client.js');

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

module.exports = { resolveOrganizations, MEMBERS_PER_REQUEST, isOrgId };
