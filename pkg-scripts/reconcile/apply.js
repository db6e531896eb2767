'use strict';
// --apply: carries out the plan kept in the spool (spool.js), phase by phase across all
// users, as the contract orders them — 1: one DELETE /users/{id}/roles per user, 2: one PATCH
// /users/{id}, 3: POST /roles/{id}/users in batches, 4: the after-grant PATCH of users whose
// grants all went through — so a run killed at any moment leaves a tenant the next run's
// fresh plan completes. A fixed number of requests in flight, each paced by the client.
// Per reply: 404 for a user = "user gone" (deleted mid-run: counted, not an error); a batch
// answered 404 is split in halves and retried until the gone user is alone (never dropped);
// 409 and other refusals are failures, reported; a missing scope or a refused token stops
// the run (every further write would fail the same way). Phase 3's organization access
// (memberships, then organization roles) is apply-orgs.js.
const { DeployError } = require('../lib/errors.js');
const { ApiError } = require('../deploy/client.js');
const { joinOrgs, giveOrgRoles, leaveOrgs } = require('./apply-orgs.js');

const DEFAULT_CONCURRENCY = 4;
const MAX_FAILURES_SHOWN = 20;
const FATAL_STREAK = 3; // this many requests in a row that failed for good (network/5xx): stop

/**
 * At most `n` tasks at once. A task still waiting for a slot when `halted()` turns true is
 * dropped: after a stop only the requests already in flight go out, not the next one queued.
 */
class Pool {
  constructor(n, halted = () => false) {
    this.n = n;
    this.halted = halted;
    this.active = 0;
    this.waiting = [];
    this.idle = [];
  }
  async submit(task) {
    while (this.active >= this.n) await new Promise((r) => this.waiting.push(r));
    if (this.halted()) {
      const w = this.waiting.shift(); // the slot this task would have taken passes on
      if (w) w();
      return;
    }
    this.active++;
    task().catch((e) => { this.error = this.error || e; }).finally(() => {
      this.active--;
      const w = this.waiting.shift();
      if (w) w();
      if (!this.active) for (const r of this.idle.splice(0)) r();
    });
  }
  async drain() {
    if (this.active) await new Promise((r) => this.idle.push(r));
  }
}

const KINDS = {
  remove: 'DELETE /users/{id}/roles',
  leave: 'DELETE /organizations/{id}/members',
  unOrgRoles: 'DELETE /organizations/{id}/members/{user_id}/roles',
  patch: 'PATCH /users/{id}',
  assign: 'POST /roles/{id}/users',
  join: 'POST /organizations/{id}/members',
  orgRoles: 'POST /organizations/{id}/members/{user_id}/roles',
  after: 'PATCH /users/{id} (after the grants)',
};

class Applier {
  /**
   * @param {object} o client (TenantClient); batchSize; concurrency; onProgress({phase,
   *   done, total}); roleNames: Map(id → name) for messages; orgIds: Map(organization as
   *   the policy names it → {id}) (reconcile/organizations.js)
   */
  constructor(o) {
    this.client = o.client;
    this.batchSize = o.batchSize;
    this.pool = new Pool(o.concurrency || DEFAULT_CONCURRENCY, () => this.halted());
    this.onProgress = o.onProgress || (() => {});
    this.roleNames = o.roleNames || new Map();
    this.orgIds = o.orgIds || new Map();
    this.orgGone = new Set(); // organizations answered 404
    this.kinds = KINDS;
    this.gone = new Set();
    this.failedUsers = new Set();
    this.failures = [];
    this.failureCount = 0;
    this.counts = Object.fromEntries(Object.keys(KINDS).map((k) => [k, { requests: 0, ok: 0, users: 0, failed: 0, gone: 0, retried: 0, limited: 0 }]));
    this.splits = 0;
    this.roleChecked = new Map(); // role id → true (exists) | false (gone)
    this.fatal = null;
    this.streak = 0;
    this.stopped = false;
  }

  /** Whether the run stops: a fatal answer, a stop() or a task that threw. */
  halted() {
    return Boolean(this.fatal || this.stopped || this.pool.error);
  }

  /** Stops taking new writes (those in flight finish). */
  stop(reason) {
    this.stopped = this.stopped || reason || true;
  }

  fail(userIds, kind, message) {
    for (const u of userIds) this.failedUsers.add(u);
    this.failureCount += userIds.length;
    this.counts[kind].failed += userIds.length;
    if (this.failures.length < MAX_FAILURES_SHOWN) this.failures.push(message);
  }

  /** One write: {status} after the client's retries; counts it; a fatal refusal stops the run. */
  async write(kind, method, pathname, body) {
    const c = this.counts[kind];
    let res;
    try {
      res = await this.client.send(method, pathname, { body });
    } catch (e) {
      c.requests += e.attempts || 1;
      c.retried += Math.max(0, (e.attempts || 1) - 1);
      c.limited += e.limited || 0;
      if (++this.streak >= FATAL_STREAK) this.fatal = this.fatal || new DeployError(`the tenant stopped answering (${e.message}): stopped`);
      return { status: 0, message: e.message };
    }
    c.requests += res.attempts;
    c.retried += res.attempts - 1;
    c.limited += res.limited;
    if (res.status >= 500 || res.status === 429) {
      if (++this.streak >= FATAL_STREAK) this.fatal = this.fatal || new DeployError(`the tenant keeps answering HTTP ${res.status}: stopped`);
    } else this.streak = 0;
    if (res.status === 401 || res.status === 403) {
      this.fatal = this.fatal || this.client.explain(method, pathname, res);
    }
    const code = res.json && typeof res.json === 'object' ? res.json.errorCode : undefined;
    return { status: res.status, code, message: res.status >= 300 ? this.client.explain(method, pathname, res).message : '' };
  }

  usable(u) {
    return !this.gone.has(u) && !this.failedUsers.has(u);
  }

  /** Phases 1, 2 and 4: one request per user of the spool that has the part. */
  async perUser(spool, kind, part, send) {
    let total = 0;
    for await (const rec of spool.records()) if (rec[part] && (!Array.isArray(rec[part]) || rec[part].length)) total++;
    let done = 0;
    this.onProgress({ phase: KINDS[kind], done, total });
    for await (const rec of spool.records()) {
      if (this.halted()) break;
      const v = rec[part];
      if (!v || (Array.isArray(v) && !v.length)) continue;
      if (!this.usable(rec.u)) {
        this.onProgress({ phase: KINDS[kind], done: ++done, total });
        continue;
      }
      await this.pool.submit(async () => {
        const r = await send(rec.u, v);
        this.settleUser(kind, rec.u, r);
        this.onProgress({ phase: KINDS[kind], done: ++done, total });
      });
    }
    await this.pool.drain();
  }

  settleUser(kind, u, r) {
    const c = this.counts[kind];
    if (r.status >= 200 && r.status < 300) {
      c.ok++;
      c.users++;
    } else if (r.status === 404) {
      c.gone++;
      this.gone.add(u);
    } else {
      this.fail([u], kind, `${u}: ${r.message || `HTTP ${r.status}`}`);
    }
  }

  /** Phase 3: each role's users in batches; a 404 batch is bisected. */
  async assign(spool) {
    const buffers = new Map();
    let total = 0;
    for await (const rec of spool.records()) total += rec.a.length;
    let done = 0;
    const progress = (n) => this.onProgress({ phase: KINDS.assign, done: (done += n), total });
    progress(0);
    const flush = (roleId, users) => this.pool.submit(async () => {
      await this.batch(roleId, users);
      progress(users.length);
    });
    for await (const rec of spool.records()) {
      if (this.halted()) break;
      for (const roleId of rec.a) {
        if (!this.usable(rec.u)) {
          progress(1);
          continue;
        }
        const buf = buffers.get(roleId) || [];
        buf.push(rec.u);
        buffers.set(roleId, buf);
        if (buf.length >= this.batchSize) {
          buffers.delete(roleId);
          await flush(roleId, buf);
        }
      }
    }
    for (const [roleId, users] of buffers) if (!this.halted()) await flush(roleId, users);
    await this.pool.drain();
  }

  /**
   * A batch refused because one of its users is gone (deleted mid-run): halves sent again
   * with `again` until the gone user is alone, counted in `c.gone`.
   */
  async splitGone(c, users, again) {
    if (users.length === 1) {
      c.gone++;
      this.gone.add(users[0]);
      return;
    }
    this.splits++;
    const half = Math.ceil(users.length / 2);
    await again(users.slice(0, half));
    await again(users.slice(half));
  }

  async batch(roleId, users) {
    const c = this.counts.assign;
    const roleName = this.roleNames.get(roleId) || roleId;
    if (this.roleChecked.get(roleId) === false) {
      this.fail(users, 'assign', `role ${roleName} (${roleId}) is gone from the tenant: ${users.length} assignment(s) not made`);
      return;
    }
    const pathname = `/api/v2/roles/${encodeURIComponent(roleId)}/users`;
    const r = await this.write('assign', 'POST', pathname, { users });
    if (r.status >= 200 && r.status < 300) {
      c.ok++;
      c.users += users.length;
      return;
    }
    if (r.status === 404) {
      if (!(await this.roleExists(roleId))) {
        this.fail(users, 'assign', `role ${roleName} (${roleId}) is gone from the tenant: ${users.length} assignment(s) not made`);
        return;
      }
      await this.splitGone(c, users, (part) => this.batch(roleId, part));
      return;
    }
    this.fail(users, 'assign', `${roleName} for ${users.length} user(s) (${users.slice(0, 3).join(', ')}${users.length > 3 ? ', …' : ''}): ${r.message || `HTTP ${r.status}`}`);
  }

  /** Whether a role still exists (asked once per role, on its first 404). */
  async roleExists(roleId) {
    if (this.roleChecked.has(roleId)) return this.roleChecked.get(roleId);
    let exists = true;
    try {
      await this.client.call('GET', `/api/v2/roles/${encodeURIComponent(roleId)}`);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e;
      exists = false;
    }
    this.roleChecked.set(roleId, exists);
    return exists;
  }

  /** All four phases (3: roles, memberships, organization roles); returns the report. Throws the fatal error, if any, after the writes in flight. */
  async run(spool) {
    const enc = encodeURIComponent;
    await this.perUser(spool, 'remove', 'r', (u, roles) => this.write('remove', 'DELETE', `/api/v2/users/${enc(u)}/roles`, { roles }));
    if (!this.fatal && !this.stopped) await leaveOrgs(this, spool);
    if (!this.fatal) await this.perUser(spool, 'patch', 'p', (u, body) => this.write('patch', 'PATCH', `/api/v2/users/${enc(u)}`, body));
    if (!this.fatal) await this.assign(spool);
    if (!this.fatal && !this.stopped) await joinOrgs(this, spool);
    if (!this.fatal && !this.stopped) await giveOrgRoles(this, spool);
    if (!this.fatal) await this.perUser(spool, 'after', 'pa', (u, body) => this.write('after', 'PATCH', `/api/v2/users/${enc(u)}`, body));
    if (this.pool.error) throw this.pool.error;
    return this.report();
  }

  report() {
    const sent = Object.values(this.counts).reduce((n, c) => n + c.requests, 0);
    return {
      counts: this.counts,
      sent,
      retried: Object.values(this.counts).reduce((n, c) => n + c.retried, 0),
      limited: Object.values(this.counts).reduce((n, c) => n + c.limited, 0),
      splits: this.splits,
      gone: this.gone.size,
      failures: this.failureCount,
      failureSamples: this.failures,
      fatal: this.fatal,
      stopped: this.stopped,
    };
  }
}

/** The report as lines; `minimum` is the dry run's count of writes. */
function reportLines(rep, minimum) {
  const lines = ['writes sent:'];
  for (const [k, label] of Object.entries(KINDS)) {
    const c = rep.counts[k];
    if (!c.requests) continue;
    const users = k === 'assign' ? `${c.users} assignment(s) in ${c.ok} batch(es)` : k === 'join' || k === 'leave' ? `${c.users} membership(s) in ${c.ok} batch(es)` : `${c.ok} user(s)`;
    lines.push(`  ${label}: ${c.requests} request(s): ${users}${c.gone ? `, ${c.gone} user(s) gone` : ''}${c.failed ? `, ${c.failed} failed` : ''}`);
  }
  if (!rep.sent) lines.push('  none: the tenant already matches the policy');
  const over = minimum ? ((rep.sent - minimum) / minimum) * 100 : 0;
  lines.push(`requests: ${rep.sent} write(s) sent for a minimum of ${minimum}${minimum ? ` (${over >= 0 ? '+' : ''}${over.toFixed(1)}%)` : ''}; ` +
    `retried ${rep.retried} (429s: ${rep.limited}); batches split: ${rep.splits}; users gone: ${rep.gone}; failures: ${rep.failures}`);
  for (const f of rep.failureSamples) lines.push(`failed: ${f}`);
  if (rep.failures > rep.failureSamples.length) lines.push(`failed: … and ${rep.failures - rep.failureSamples.length} more`);
  return lines;
}

module.exports = { Applier, Pool, reportLines, KINDS, DEFAULT_CONCURRENCY };
