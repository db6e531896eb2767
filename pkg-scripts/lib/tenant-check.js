'use strict';
// `policy check --tenant`: what a policy names (roles, organizations, permissions) checked
// read-only against the tenant, as the Action's own client sees it, so a typo in a role name
// is found before a login meets it. Used by `npm run deploy` before it changes anything.
const { Management, ApiError } = require('../deploy/client.js');
const { required } = require('./env.js');
const { ConfigError } = require('./errors.js');
const { checkSecrets } = require('./check-secrets.js');

const ROLE_ID = /^rol_/;
const ORG_ID = /^org_/;

/**
 * What the Action will ask for: each entry lists scopes of which any one suffices (as the
 * Management API's routes accept them), with the policy feature that needs it.
 */
function neededScopes(policy) {
  const needs = [];
  const need = (any, why) => needs.push({ any, why });
  for (const [i, r] of (policy.rules || []).entries()) {
    const at = `rules[${i}] (${r.name})`;
    if ((r.assign_roles || []).length || (r.remove_roles || []).length) need(['read:roles'], `${at}: role lookup`);
    if ((r.assign_roles || []).length) need(['create:role_members', 'update:users'], `${at}.assign_roles`);
    if ((r.remove_roles || []).length) need(['delete:role_members', 'update:users'], `${at}.remove_roles`);
    if ((r.assign_permissions || []).length) need(['update:users'], `${at}.assign_permissions`);
    if (r.password_reset_ticket) need(['create:user_tickets'], `${at}.password_reset_ticket`);
    if (r.mfa_enrollment_ticket) need(['create:guardian_enrollment_tickets'], `${at}.mfa_enrollment_ticket`);
    const orgRoles = [].concat(r.organization_roles || []);
    if (r.join_organization || orgRoles.length) {
      const named = [].concat(r.join_organization || [], orgRoles.map((o) => o.organization)).some((o) => typeof o === 'string' && !ORG_ID.test(o) && o !== '$current');
      if (named) need(['read:organizations'], `${at}: organization lookup`);
      need(['create:organization_members'], `${at}.join_organization`);
      if (r.retract) {
        // Memberships are read before joining (GET /users/{id}/organizations) and removed later.
        need(['read:organizations'], `${at}.retract: the user's memberships`);
        need(['delete:organization_members'], `${at}.retract`);
      }
    }
    if (orgRoles.length) {
      need(['read:roles'], `${at}: organization role lookup`);
      need(['create:organization_member_roles'], `${at}.organization_roles`);
      if (r.retract) need(['delete:organization_member_roles'], `${at}.retract`);
    }
    // post-user-registration has no api.user: its metadata goes through PATCH /users/{id}.
    const triggers = [].concat((r.when && r.when.trigger) || ['post-login', 'post-user-registration']);
    if ((r.set_app_metadata || r.set_user_metadata) && triggers.includes('post-user-registration')) {
      need(['update:users', 'update:users_app_metadata'], `${at}: metadata at sign-up`);
    }
  }
  return needs;
}

/** Every role reference with where it is: [{ref, at}]. */
function roleRefs(policy) {
  const out = [];
  for (const [i, r] of (policy.rules || []).entries()) {
    for (const key of ['assign_roles', 'remove_roles']) for (const [j, ref] of (r[key] || []).entries()) out.push({ ref, at: `rules[${i}].${key}[${j}]` });
    const orgRoles = [].concat(r.organization_roles || []);
    const one = !Array.isArray(r.organization_roles);
    for (const [k, o] of orgRoles.entries()) {
      const at = `rules[${i}].organization_roles${one ? '' : `[${k}]`}.roles`;
      for (const [j, ref] of (o.roles || []).entries()) out.push({ ref, at: `${at}[${j}]` });
    }
  }
  return out;
}

/** Every organization a `when` names, nested `not` included. */
function orgRefs(policy) {
  const out = [];
  const walk = (when, at) => {
    if (!when) return;
    for (const o of [].concat(when.organization || [])) out.push({ ref: o, at: `${at}.organization` });
    walk(when.not, `${at}.not`);
  };
  for (const [i, r] of (policy.rules || []).entries()) {
    walk(r.when, `rules[${i}].when`);
    const joins = [].concat(r.join_organization || []);
    const oneJoin = !Array.isArray(r.join_organization);
    for (const [j, ref] of joins.entries()) out.push({ ref, at: `rules[${i}].join_organization${oneJoin ? '' : `[${j}]`}` });
    const one = !Array.isArray(r.organization_roles);
    for (const [k, o] of [].concat(r.organization_roles || []).entries()) {
      // $current is the login's organization: nothing to look up ahead of it.
      if (o.organization !== '$current') out.push({ ref: o.organization, at: `rules[${i}].organization_roles${one ? '' : `[${k}]`}.organization` });
    }
  }
  return out;
}

async function allPages(mgmt, pathname, key) {
  const items = [];
  for (let page = 0; ; page++) {
    const body = await mgmt.call('GET', pathname, { query: { per_page: 100, page, include_totals: true } });
    items.push(...body[key]);
    if (!body[key].length || items.length >= body.total) return items;
  }
}

const loose = (s) => s.trim().replace(/\s+/g, ' ').toLowerCase();

/** A 403 becomes "not checked" (a warning): the reads need scopes the Action itself may not. */
async function readOrSkip(findings, what, scope, read) {
  try {
    return await read();
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) {
      findings.push({ level: 'warning', message: `${what}: not checked (the client lacks ${scope})` });
      return null;
    }
    throw e;
  }
}

async function checkRoles(mgmt, policy, findings) {
  const refs = roleRefs(policy);
  const byName = refs.filter((r) => !ROLE_ID.test(r.ref));
  const roles = byName.length ? await readOrSkip(findings, 'role names', 'read:roles', () => allPages(mgmt, '/api/v2/roles', 'roles')) : [];
  for (const { ref, at } of byName) {
    if (!roles) break;
    const exact = roles.filter((r) => r.name === ref);
    const near = roles.filter((r) => r.name !== ref && loose(r.name) === loose(ref)).map((r) => JSON.stringify(r.name));
    if (exact.length === 1) findings.push({ level: 'ok', message: `${at}: role "${ref}" is ${exact[0].id}` });
    else if (exact.length > 1) findings.push({ level: 'error', message: `${at}: role "${ref}" names ${exact.length} roles (${exact.map((r) => r.id).join(', ')}): use a role id` });
    else findings.push({ level: 'error', message: `${at}: no role is named "${ref}"${near.length ? ` (differs by case or whitespace: ${near.join(', ')})` : ''}` });
  }
  for (const { ref, at } of refs.filter((r) => ROLE_ID.test(r.ref))) {
    const found = await readOrSkip(findings, `${at}: role ${ref}`, 'read:roles', () => getOrNull(mgmt, `/api/v2/roles/${encodeURIComponent(ref)}`));
    if (found === undefined) findings.push({ level: 'error', message: `${at}: no role has the id ${ref}` });
    else if (found) findings.push({ level: 'ok', message: `${at}: role ${ref} is "${found.name}"` });
  }
}

/** The resource, or undefined on a 404 (null stays readOrSkip's "not checked"). */
async function getOrNull(mgmt, pathname) {
  try {
    return await mgmt.call('GET', pathname);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return undefined;
    throw e;
  }
}

async function checkOrganizations(mgmt, policy, findings) {
  for (const { ref, at } of orgRefs(policy)) {
    const pathname = ORG_ID.test(ref) ? `/api/v2/organizations/${encodeURIComponent(ref)}` : `/api/v2/organizations/name/${encodeURIComponent(ref)}`;
    const found = await readOrSkip(findings, `${at}: organization "${ref}"`, 'read:organizations', () => getOrNull(mgmt, pathname));
    if (found === undefined) findings.push({ level: 'error', message: `${at}: no organization ${ORG_ID.test(ref) ? 'has the id' : 'is named'} "${ref}"` });
    else if (found) findings.push({ level: 'ok', message: `${at}: organization "${ref}" exists` });
  }
}

async function checkPermissions(mgmt, policy, findings) {
  const refs = (policy.rules || []).flatMap((r, i) => (r.assign_permissions || []).map((p, j) => ({ ...p, at: `rules[${i}].assign_permissions[${j}]` })));
  if (!refs.length) return;
  const servers = await readOrSkip(findings, 'permissions', 'read:resource_servers', () => allPages(mgmt, '/api/v2/resource-servers', 'resource_servers'));
  if (!servers) return;
  for (const { resource_server_identifier: api, permission_name: perm, at } of refs) {
    const rs = servers.find((s) => s.identifier === api);
    if (!rs) findings.push({ level: 'error', message: `${at}: no API has the identifier ${api}` });
    else if (!(rs.scopes || []).some((s) => s.value === perm)) findings.push({ level: 'error', message: `${at}: the API ${api} has no permission ${perm}` });
    else findings.push({ level: 'ok', message: `${at}: permission ${perm} on ${api} exists` });
  }
}

function checkScopes(mgmt, policy, findings) {
  if (!mgmt.scopes) {
    findings.push({ level: 'warning', message: 'scopes: not checked (the token response listed no scope)' });
    return;
  }
  for (const { any, why } of neededScopes(policy)) {
    if (!any.some((s) => mgmt.scopes.includes(s))) findings.push({ level: 'error', message: `${why}: the Action's client lacks ${any.join(' or ')}` });
  }
}

/** Findings ([{level: ok | warning | error, message}]) for `policy` (parsed) on the tenant behind `mgmt`. */
async function checkTenant(mgmt, policy) {
  const findings = [];
  await mgmt.authenticate();
  checkScopes(mgmt, policy, findings);
  await checkRoles(mgmt, policy, findings);
  await checkOrganizations(mgmt, policy, findings);
  await checkPermissions(mgmt, policy, findings);
  return findings;
}

/** The Action's own client, as `npm run deploy` configures it (PROVISION_*, the domain as AUTH0_DOMAIN). */
function actionClient(env, { say, redactor } = {}) {
  const domainVar = env.PROVISION_DOMAIN && String(env.PROVISION_DOMAIN).trim() ? 'PROVISION_DOMAIN' : 'AUTH0_DOMAIN';
  const domain = required(env, domainVar, 'the tenant, e.g. example.eu.auth0.com');
  const { origin } = checkSecrets({ AUTH0_DOMAIN: domain }, { requireCredentials: false, env, label: () => domainVar, what: 'the tenant' });
  const unset = (name) => env[name] === undefined || String(env[name]).trim() === '';
  if (unset('PROVISION_CLIENT_ID') && !unset('AUTH0_CLIENT_ID')) {
    // Never fall back to AUTH0_CLIENT_ID: it is the deployer's client, whose scopes are not
    // the Action's, so the scope check would pass for the wrong client.
    throw new ConfigError('PROVISION_CLIENT_ID is not set: the check runs as the Action\'s own client (PROVISION_CLIENT_ID / PROVISION_CLIENT_SECRET), ' +
      'not the deployer\'s AUTH0_CLIENT_ID; against `npm run emulator`, whose one client is the Action\'s, name its credentials PROVISION_CLIENT_* (README, "Checking a policy against the tenant")');
  }
  return new Management({
    origin,
    clientId: required(env, 'PROVISION_CLIENT_ID', "the provisioning application's client id, the Action's AUTH0_CLIENT_ID"),
    clientSecret: required(env, 'PROVISION_CLIENT_SECRET', "the provisioning application's client secret, the Action's AUTH0_CLIENT_SECRET"),
    say,
    redactor,
  });
}

/** One line per finding; returns the number of errors. */
function report(findings, say) {
  for (const f of findings) say(`${f.level}: ${f.message}`);
  const errors = findings.filter((f) => f.level === 'error').length;
  const warnings = findings.filter((f) => f.level === 'warning').length;
  say(`tenant check: ${errors} error(s), ${warnings} warning(s)`);
  return errors;
}

module.exports = { checkTenant, actionClient, report, neededScopes };
