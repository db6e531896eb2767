'use strict';
// Phase 3's organization part (apply.js runs it after the role batches, before phase 4):
// memberships first, batched per organization at most 10 users per POST
// /organizations/{id}/members (Auth0's documented cap; already a member is a no-op there),
// then one POST /organizations/{id}/members/{user_id}/roles per user and organization with
// the role ids the plan gives. A user any of whose writes failed is marked failed, so phase
// 4 (the record `provisioning_orgs`) is not written for them and the next run asks again.
// Per reply: a batch refused because a user does not exist (404, or 400 inexistent_user:
// the request is all or nothing) is split in halves until the gone user is alone (never
// dropped); an organization answered 404 fails its users; a 409 on the roles is the member's
// 50-role cap in that organization: a per-user failure saying so.
const { MEMBERS_PER_REQUEST } = require('./organizations.js');

const enc = encodeURIComponent;

const userGone = (r) => (r.status === 404 || r.status === 400) && r.code === 'inexistent_user';

/** The organization's id, or null (then the users are failed: a name the run did not resolve). */
function orgId(app, key) {
  const o = app.orgIds.get(key);
  return o ? o.id : null;
}

/** Memberships: every spooled user's joins, per organization in batches of ≤ 10. */
async function joinOrgs(app, spool) {
  const buffers = new Map();
  let total = 0;
  for await (const rec of spool.records()) for (const o of rec.o || []) if (o.j) total++;
  let done = 0;
  const progress = (n) => app.onProgress({ phase: app.kinds.join, done: (done += n), total });
  progress(0);
  const flush = (key, users) => app.pool.submit(async () => {
    await memberBatch(app, 'join', key, users);
    progress(users.length);
  });
  for await (const rec of spool.records()) {
    if (app.halted()) break;
    for (const o of rec.o || []) {
      if (!o.j) continue;
      if (!app.usable(rec.u)) {
        progress(1);
        continue;
      }
      const buf = buffers.get(o.g) || [];
      buf.push(rec.u);
      buffers.set(o.g, buf);
      if (buf.length >= MEMBERS_PER_REQUEST) {
        buffers.delete(o.g);
        await flush(o.g, buf);
      }
    }
  }
  for (const [key, users] of buffers) if (!app.halted()) await flush(key, users);
  await app.pool.drain();
}

/** One batch of memberships made (`join`, POST) or removed (`leave`, DELETE). */
async function memberBatch(app, kind, key, users) {
  const c = app.counts[kind];
  const id = orgId(app, key);
  const what = kind === 'join' ? 'not made' : 'not removed';
  if (!id || app.orgGone.has(key)) {
    app.fail(users, kind, `organization ${key}${id ? ` (${id})` : ''} is not in the tenant: ${users.length} membership(s) ${what}`);
    return;
  }
  const r = await app.write(kind, kind === 'join' ? 'POST' : 'DELETE', `/api/v2/organizations/${enc(id)}/members`, { members: users });
  if (r.status >= 200 && r.status < 300) {
    c.ok++;
    c.users += users.length;
    return;
  }
  if (r.status === 404 && r.code !== 'inexistent_user') {
    app.orgGone.add(key);
    app.fail(users, kind, `organization ${key} (${id}) is not in the tenant (HTTP 404): ${users.length} membership(s) ${what}`);
    return;
  }
  if (userGone(r)) {
    await app.splitGone(c, users, (part) => memberBatch(app, kind, key, part));
    return;
  }
  app.fail(users, kind, `membership${kind === 'leave' ? ' removal' : ''} of ${key} for ${users.length} user(s) (${users.slice(0, 3).join(', ')}${users.length > 3 ? ', …' : ''}): ${r.message || `HTTP ${r.status}`}`);
}

/** Organization roles: one request per user and organization, after every membership. */
async function giveOrgRoles(app, spool) {
  let total = 0;
  for await (const rec of spool.records()) for (const o of rec.o || []) if (o.r.length) total++;
  let done = 0;
  const progress = () => app.onProgress({ phase: app.kinds.orgRoles, done: ++done, total });
  app.onProgress({ phase: app.kinds.orgRoles, done, total });
  for await (const rec of spool.records()) {
    if (app.halted()) break;
    for (const o of rec.o || []) {
      if (!o.r.length) continue;
      const id = orgId(app, o.g);
      if (!app.usable(rec.u) || !id || app.orgGone.has(o.g)) {
        progress();
        continue;
      }
      await app.pool.submit(async () => {
        const r = await app.write('orgRoles', 'POST', `/api/v2/organizations/${enc(id)}/members/${enc(rec.u)}/roles`, { roles: o.r });
        const c = app.counts.orgRoles;
        if (r.status >= 200 && r.status < 300) {
          c.ok++;
          c.users++;
        } else if (r.status === 409) {
          app.fail([rec.u], 'orgRoles', `${rec.u}: organization ${o.g}: the member already holds the most roles Auth0 allows in one organization (50): ${o.r.length} role(s) not given; ` +
            'remove some of the member\'s organization roles, then run again (this user\'s provisioning_orgs is not written, so the next run retries)');
        } else if (userGone(r) || (r.status === 404 && r.code !== 'inexistent_organization')) {
          c.gone++;
          app.gone.add(rec.u);
        } else {
          app.fail([rec.u], 'orgRoles', `${rec.u}: roles in ${o.g}: ${r.message || `HTTP ${r.status}`}`);
        }
        progress();
      });
    }
  }
  await app.pool.drain();
}

/**
 * Phase 1's organization part (after the role removals, before phase 2 un-records them):
 * retracted memberships, per organization at most 10 users per DELETE
 * /organizations/{id}/members (a non-member is a no-op there), then one DELETE
 * /organizations/{id}/members/{user_id}/roles per user and organization. A user whose removal
 * failed is marked failed: phase 2 keeps the record and the next run removes it again.
 */
async function leaveOrgs(app, spool) {
  const buffers = new Map();
  let total = 0;
  for await (const rec of spool.records()) for (const o of rec.l || []) total += (o.x ? 1 : 0) + (o.r.length ? 1 : 0);
  let done = 0;
  const progress = (n) => app.onProgress({ phase: app.kinds.leave, done: (done += n), total });
  progress(0);
  const flush = (key, users) => app.pool.submit(async () => {
    await memberBatch(app, 'leave', key, users);
    progress(users.length);
  });
  for await (const rec of spool.records()) {
    if (app.halted()) break;
    for (const o of rec.l || []) {
      if (!app.usable(rec.u)) {
        progress((o.x ? 1 : 0) + (o.r.length ? 1 : 0));
        continue;
      }
      if (o.x) {
        const buf = buffers.get(o.g) || [];
        buf.push(rec.u);
        buffers.set(o.g, buf);
        if (buf.length >= MEMBERS_PER_REQUEST) {
          buffers.delete(o.g);
          await flush(o.g, buf);
        }
      }
      if (o.r.length) {
        const id = orgId(app, o.g);
        await app.pool.submit(async () => {
          if (!id) app.fail([rec.u], 'unOrgRoles', `organization ${o.g} is not in the tenant: roles not removed`);
          else {
            const r = await app.write('unOrgRoles', 'DELETE', `/api/v2/organizations/${enc(id)}/members/${enc(rec.u)}/roles`, { roles: o.r });
            if (r.status >= 200 && r.status < 300) {
              app.counts.unOrgRoles.ok++;
              app.counts.unOrgRoles.users++;
            } else app.fail([rec.u], 'unOrgRoles', `${rec.u}: roles in ${o.g}: ${r.message || `HTTP ${r.status}`}`);
          }
          progress(1);
        });
      }
    }
  }
  for (const [key, users] of buffers) if (!app.halted()) await flush(key, users);
  await app.pool.drain();
}

module.exports = { joinOrgs, giveOrgRoles, leaveOrgs };
