'use strict';
// One user's plan (a core output line) in the forms the executor needs: the writes it
// means (what --apply sends, what the dry run counts), the --out line a person reads, and
// the compact record the apply spool keeps between phases.

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Metadata keys a patch writes: [{where: app_metadata|user_metadata, key, value}]. */
function patchKeys(patch) {
  if (!isObj(patch)) return [];
  const out = [];
  for (const where of ['app_metadata', 'user_metadata']) {
    if (isObj(patch[where])) for (const [key, value] of Object.entries(patch[where])) out.push({ where, key, value });
  }
  return out;
}

/**
 * The PATCH /users/{id} body of a patch: only non-empty metadata objects (Auth0 reads an
 * empty app_metadata object as "delete all of it"), null when nothing is left.
 */
function patchBody(patch) {
  if (!isObj(patch)) return null;
  const body = {};
  for (const where of ['app_metadata', 'user_metadata']) if (isObj(patch[where]) && Object.keys(patch[where]).length) body[where] = patch[where];
  return Object.keys(body).length ? body : null;
}

const roleIds = (list) => (Array.isArray(list) ? list.filter((r) => r && typeof r.id === 'string') : []);

/**
 * The plan's organization access (phase 3): entries naming an organization that give
 * something (a membership to make or roles to give), each {organization, join, roles, rules}.
 */
function orgList(plan) {
  if (!Array.isArray(plan.orgs)) return [];
  return plan.orgs
    .filter((o) => o && typeof o.organization === 'string' && o.organization)
    .map((o) => ({ organization: o.organization, join: o.join === true, roles: roleIds(o.roles), rules: Array.isArray(o.rules) ? o.rules : [] }))
    .filter((o) => o.join || o.roles.length);
}

/**
 * The plan's organization access to retract (phase 1): entries that take something (the
 * membership, or roles in it), each {organization, leave, roles, rules}.
 */
function leaveList(plan) {
  if (!Array.isArray(plan.leave)) return [];
  return plan.leave
    .filter((o) => o && typeof o.organization === 'string' && o.organization)
    .map((o) => ({ organization: o.organization, leave: o.leave === true, roles: o.leave === true ? [] : roleIds(o.roles), rules: Array.isArray(o.rules) ? o.rules : [] }))
    .filter((o) => o.leave || o.roles.length);
}

/** Whether a plan line carries any write. */
function hasWrites(plan) {
  return !plan.error && (roleIds(plan.remove).length > 0 || leaveList(plan).length > 0 || roleIds(plan.assign).length > 0 || orgList(plan).length > 0 || patchKeys(plan.patch).length > 0 || patchKeys(plan.patch_after).length > 0);
}

/** The changes in phase order, each {phase, kind, …, rules?}. */
function changeList(plan) {
  const out = [];
  for (const r of roleIds(plan.remove)) out.push({ phase: 1, kind: 'remove_role', role: r.name, role_id: r.id, rules: r.rules || [] });
  for (const o of leaveList(plan)) {
    if (o.leave) out.push({ phase: 1, kind: 'leave_organization', organization: o.organization, rules: o.rules });
    for (const r of o.roles) out.push({ phase: 1, kind: 'remove_organization_role', organization: o.organization, role: r.name, role_id: r.id, rules: o.rules });
  }
  for (const k of patchKeys(plan.patch)) out.push({ phase: 2, kind: k.value === null ? `delete_${k.where}` : `set_${k.where}`, key: k.key, value: k.value });
  for (const r of roleIds(plan.assign)) out.push({ phase: 3, kind: 'assign_role', role: r.name, role_id: r.id, rules: r.rules || [] });
  for (const o of orgList(plan)) {
    if (o.join) out.push({ phase: 3, kind: 'join_organization', organization: o.organization, rules: o.rules });
    for (const r of o.roles) out.push({ phase: 3, kind: 'assign_organization_role', organization: o.organization, role: r.name, role_id: r.id, rules: o.rules });
  }
  for (const k of patchKeys(plan.patch_after)) out.push({ phase: 4, kind: k.value === null ? `delete_${k.where}` : `set_${k.where}`, key: k.key, value: k.value, after_grants: true });
  return out;
}

/** The --out line of a plan with writes: {user_id, rules (matched), changes, why}. */
function outLine(plan) {
  const matched = (plan.rules || []).filter((r) => r.status === 'matched').map((r) => r.name);
  return { user_id: plan.user_id, rules: matched, changes: changeList(plan), why: plan.why || {} };
}

/**
 * What apply keeps of a plan between its phases: {u, r: [role ids], l: [{g, x: leave?, r:
 * [role ids]}], p, a: [role ids], o: [{g: organization as the policy names it, j: join?, r:
 * [role ids]}], pa}.
 */
function spoolRecord(plan) {
  return {
    u: plan.user_id,
    r: roleIds(plan.remove).map((x) => x.id),
    l: leaveList(plan).map((o) => ({ g: o.organization, x: o.leave, r: o.roles.map((x) => x.id) })),
    p: patchBody(plan.patch),
    a: roleIds(plan.assign).map((x) => x.id),
    o: orgList(plan).map((o) => ({ g: o.organization, j: o.join, r: o.roles.map((x) => x.id) })),
    pa: patchBody(plan.patch_after),
  };
}

module.exports = { leaveList, patchKeys, patchBody, orgList, hasWrites, changeList, outLine, spoolRecord };
