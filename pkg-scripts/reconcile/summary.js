'use strict';
// The dry run's account of a plan: users scanned; per rule, users matched, roles to assign
// and remove, organization memberships to make and organization roles to give, metadata keys
// to write, users the rule cannot judge offline; record errors; the writes --apply will send
// (the minimum: one DELETE and one PATCH per user that needs them, POST /roles/{id}/users in
// batches, POST /organizations/{id}/members in batches of 10, one organization-roles POST
// per user and organization, the after-grant PATCHes) and how long they take
// at the rate limits the reads measured. Counts only: nothing per user is kept.
const { patchKeys, orgList, leaveList, hasWrites } = require('./changes.js');
const { MEMBERS_PER_REQUEST } = require('./organizations.js');
const { secondsFor } = require('./pace.js');

const MAX_ERRORS_SHOWN = 5;
const DOCUMENTED = { 'org-members-write': { limit: 20, perSecond: 200 / 60 }, 'org-member-roles': { limit: 20, perSecond: 200 / 60 } };

class PlanSummary {
  /**
   * @param {object} o policy (parsed: rule names in order, and which metadata keys each
   *   rule sets — to attribute a patch's keys to rules, for display only); batchSize
   */
  constructor({ policy, batchSize }) {
    this.batchSize = batchSize;
    this.rules = new Map();
    this.ruleKeys = new Map();
    for (const r of (policy && policy.rules) || []) {
      this.rule(r.name);
      const keys = new Set();
      for (const where of ['app_metadata', 'user_metadata']) for (const k of Object.keys(r[`set_${where}`] || {})) keys.add(`${where}.${k}`);
      this.ruleKeys.set(r.name, keys);
    }
    this.users = 0;
    this.withChanges = 0;
    this.changes = 0;
    this.errors = 0;
    this.errorSamples = [];
    this.deletes = 0;
    this.patches = 0;
    this.patchAfter = 0;
    this.assignByRole = new Map(); // role id → {name, users}
    this.joinsByOrg = new Map(); // organization (as the policy names it) → users to join
    this.orgRoleWrites = 0; // (user, organization) pairs with roles to give: one POST each
    this.leavesByOrg = new Map(); // organization → users whose membership is retracted
    this.orgRoleRemovals = 0; // (user, organization) pairs with roles to retract: one DELETE each
    this.bookkeeping = 0; // metadata keys no matched rule sets (provisioning_roles, markers)
  }

  rule(name) {
    if (!this.rules.has(name)) this.rules.set(name, { matched: 0, assign: 0, remove: 0, joins: 0, orgRoles: 0, metadata: 0, notEvaluable: 0 });
    return this.rules.get(name);
  }

  /** Counts one core output line. */
  add(plan) {
    this.users++;
    if (plan.error) {
      this.errors++;
      if (this.errorSamples.length < MAX_ERRORS_SHOWN) this.errorSamples.push(`${plan.user_id === null ? '(no user_id)' : plan.user_id}: ${plan.error}`);
      return;
    }
    const matched = [];
    for (const r of plan.rules || []) {
      const s = this.rule(r.name);
      if (r.status === 'matched') {
        s.matched++;
        matched.push(r.name);
      } else if (r.status === 'not_evaluable') s.notEvaluable++;
    }
    for (const r of plan.remove || []) for (const n of r.rules || []) this.rule(n).remove++;
    for (const r of plan.assign || []) {
      for (const n of r.rules || []) this.rule(n).assign++;
      const a = this.assignByRole.get(r.id) || { name: r.name, users: 0 };
      a.users++;
      this.assignByRole.set(r.id, a);
    }
    for (const o of orgList(plan)) {
      for (const n of o.rules) {
        if (o.join) this.rule(n).joins++;
        this.rule(n).orgRoles += o.roles.length;
      }
      if (o.join) this.joinsByOrg.set(o.organization, (this.joinsByOrg.get(o.organization) || 0) + 1);
      if (o.roles.length) this.orgRoleWrites++;
    }
    // Retracted organization access counts in the rule's "remove" column.
    for (const o of leaveList(plan)) {
      for (const n of o.rules) this.rule(n).remove += (o.leave ? 1 : 0) + o.roles.length;
      if (o.leave) this.leavesByOrg.set(o.organization, (this.leavesByOrg.get(o.organization) || 0) + 1);
      if (o.roles.length) this.orgRoleRemovals++;
    }
    for (const k of [...patchKeys(plan.patch), ...patchKeys(plan.patch_after)]) {
      const owners = matched.filter((n) => (this.ruleKeys.get(n) || new Set()).has(`${k.where}.${k.key}`));
      if (owners.length) for (const n of owners) this.rule(n).metadata++;
      else this.bookkeeping++;
    }
    if ((plan.remove || []).length) this.deletes++;
    if (patchKeys(plan.patch).length) this.patches++;
    if (patchKeys(plan.patch_after).length) this.patchAfter++;
    if (hasWrites(plan)) this.withChanges++;
    this.changes += Number.isFinite(plan.changes) ? plan.changes : 0;
  }

  /**
   * The fewest writes that carry the plan out: {deletes, patches, batches, memberBatches,
   * orgRoles, patchAfter, userWrites, total}.
   */
  minimumWrites() {
    let batches = 0;
    for (const { users } of this.assignByRole.values()) batches += Math.ceil(users / this.batchSize);
    let memberBatches = 0;
    for (const users of this.joinsByOrg.values()) memberBatches += Math.ceil(users / MEMBERS_PER_REQUEST);
    let leaveBatches = 0;
    for (const users of this.leavesByOrg.values()) leaveBatches += Math.ceil(users / MEMBERS_PER_REQUEST);
    const userWrites = this.deletes + this.patches + this.patchAfter;
    const orgRoles = this.orgRoleWrites;
    const orgRoleRemovals = this.orgRoleRemovals;
    return {
      deletes: this.deletes, patches: this.patches, batches, memberBatches, orgRoles, leaveBatches, orgRoleRemovals, patchAfter: this.patchAfter, userWrites,
      total: userWrites + batches + memberBatches + orgRoles + leaveBatches + orgRoleRemovals,
    };
  }

  /** The summary table as lines. */
  table() {
    // The organization columns only when the policy gives organization access.
    const orgs = [...this.rules.values()].some((s) => s.joins || s.orgRoles) || this.joinsByOrg.size > 0;
    const rows = [['rule', 'matched', 'assign', 'remove', ...(orgs ? ['org joins', 'org roles'] : []), 'metadata', 'not evaluable']];
    for (const [name, s] of this.rules) rows.push([name, s.matched, s.assign, s.remove, ...(orgs ? [s.joins, s.orgRoles] : []), s.metadata, s.notEvaluable]);
    if (this.bookkeeping) rows.push(['(bookkeeping keys)', '', '', '', ...(orgs ? ['', ''] : []), this.bookkeeping, '']);
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
    const fmt = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
    const lines = [`users scanned: ${this.users}; with changes: ${this.withChanges}; changes: ${this.changes}; errors: ${this.errors}`, '', fmt(rows[0])];
    lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows.slice(1)) lines.push(fmt(r));
    for (const e of this.errorSamples) lines.push(`error: ${e}`);
    if (this.errors > this.errorSamples.length) lines.push(`error: … and ${this.errors - this.errorSamples.length} more (--out lists none of them: they have no plan)`);
    return lines;
  }
}

const duration = (s) => (s < 1 ? 'under 1 s' : s < 90 ? `${Math.ceil(s)} s` : s < 5400 ? `${Math.ceil(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

/**
 * How long the writes take, from the buckets the reads measured. The write buckets cannot be
 * seen without writing, so (stated in the output) each is taken to be the bucket its reads
 * drew on: user writes (PATCH/DELETE /users/…) as GET /users, role-member writes (POST
 * /roles/{id}/users) as GET /roles/{id}/users. Auth0's Essentials/Professional rows allow
 * writes to users 200/min against 500/min for reads, so there it takes up to 2.5× longer.
 */
function estimateLines(min, pacer, { concurrency, latencyMs }) {
  const lines = [];
  const parts = [
    ['user writes (PATCH/DELETE /users/…)', min.userWrites, 'users-read', 'GET /users'],
    ['role-member writes (POST /roles/{id}/users)', min.batches, 'role-members-read', 'GET /roles/{id}/users'],
    // No read draws on these buckets: only a run that wrote to them before (or the
    // x-ratelimit-* of this run's writes) knows them; the estimate is then by latency.
    ['organization member writes (POST/DELETE /organizations/{id}/members)', (min.memberBatches || 0) + (min.leaveBatches || 0), 'org-members-write', 'POST /organizations/{id}/members'],
    ['organization role writes (POST/DELETE /organizations/{id}/members/{user_id}/roles)', (min.orgRoles || 0) + (min.orgRoleRemovals || 0), 'org-member-roles', 'POST /organizations/{id}/members/{user_id}/roles'],
  ];
  let total = 0;
  let known = true;
  let upper = false;
  for (const [what, n, cls, read] of parts) {
    if (!n) continue;
    // Organization writes: no read shows their bucket; Auth0's rows for them are the same on
    // every paid plan (20 burst / 200 per minute, auth0-facts-bulk.md), taken as documented.
    const b = pacer.bucket(cls) || (DOCUMENTED[cls] ? { ...DOCUMENTED[cls], measured: false } : null);
    const byLatency = latencyMs ? (n * latencyMs) / 1000 / concurrency : 0;
    const s = secondsFor(n, b);
    if (s === null) {
      known = b === null ? known : false;
      lines.push(`  ${what}: ${n}; ${b ? `bucket ${b.limit}, refill not measured (the reads did not drain it)` : 'no x-ratelimit-* headers seen'}; at ${concurrency} in flight ≈ ${duration(byLatency)}`);
      total += byLatency;
      continue;
    }
    const t = Math.max(s, byLatency);
    total += t;
    if (!b.measured) upper = true;
    lines.push(`  ${what}: ${n} at ${b.perSecond.toFixed(2)}/s after a burst of ${b.limit} (${b.measured ? 'measured' : DOCUMENTED[cls] && !pacer.bucket(cls) ? "Auth0's documented row" : 'at least: the reads did not drain it'} on ${read}) ${t < 1 ? '' : b.measured ? '≈ ' : '≤ '}${duration(t)}`);
  }
  const approx = total < 1 ? '' : !known ? 'at least ' : upper ? 'at most ' : '≈ ';
  lines.unshift(`time --apply will take: ${approx}${duration(total)} (assumes each write bucket is as large and refills as fast as the bucket its reads measured; Auth0's Essentials/Professional plans allow writes to users 200/min vs 500/min reads: up to 2.5× longer there)`);
  return lines;
}

module.exports = { PlanSummary, estimateLines, duration };
