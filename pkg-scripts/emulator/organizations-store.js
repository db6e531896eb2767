'use strict';
// The emulator's organizations: the list itself is `emu.organizations` (the fixture's
// `organizations`, so code that pushes to it keeps working), and this store keeps who is a
// member of which and with which organization roles. Seeding, in the fixture or from a test:
//   organizations: [{id?: "org_" + 16 letters/digits (made from the name when absent), name
//     (lower-case letters, digits, - and _, 1..50), display_name?, metadata?, branding?,
//     members?: [user_id | {user_id, roles?: [role ids]}]}]
// or organizationsOf(emu).add({...}) / .addMember(orgId, userId, roles) at any time. Reads
// for assertions: .memberIds(orgId), .memberRoles(orgId, userId), .organizationIdsOf(userId).
//
// A member's position (its `seq`) grows with every join, so checkpoint paging never shows a
// member twice while others join or leave; a user removed and added again is a new member
// at the end. A deleted user (emu.deleteUser) stops being a member of everything: the store
// notices through the users store's deletion count and drops such members before a read.
const crypto = require('node:crypto');

const ORG_ID = /^org_[A-Za-z0-9]{16}$/;
const ORG_NAME = /^[a-z0-9][a-z0-9_-]{0,49}$/;
/** Auth0's entity limit: role assignments per organization member. */
const MEMBER_ROLE_CAP = 50;

class OrganizationsStore {
  constructor(emu) {
    this.emu = emu;
    this.state = new WeakMap(); // organization object → {members: Map(user_id → {seq, roles}), order, seq}
    this.deletedSeen = emu.users.deletedCount;
    for (const org of emu.organizations) this.check(org);
    const seen = new Set();
    for (const org of emu.organizations) {
      if (seen.has(org.id) || seen.has(`name:${org.name}`)) throw new Error(`organization ${org.id} (${org.name}) is given twice`);
      seen.add(org.id).add(`name:${org.name}`);
    }
    for (const org of emu.organizations) this.of(org);
  }

  /** A fixture organization's shape checked (and its id made from its name when absent). */
  check(org) {
    if (!org || typeof org !== 'object' || typeof org.name !== 'string' || !ORG_NAME.test(org.name)) {
      throw new Error(`an organization needs a name of lower-case letters, digits, - and _ (1..50): ${JSON.stringify(org && org.name)}`);
    }
    if (org.id === undefined) org.id = `org_${crypto.createHash('sha256').update(`organization:${org.name}`).digest('hex').slice(0, 16)}`;
    if (typeof org.id !== 'string' || !ORG_ID.test(org.id)) throw new Error(`organization ${org.name}: id must be org_ and 16 letters or digits, not ${JSON.stringify(org.id)}`);
    if (org.display_name !== undefined && !(typeof org.display_name === 'string' && org.display_name.length >= 1 && org.display_name.length <= 255)) {
      throw new Error(`organization ${org.name}: display_name must be 1..255 characters`);
    }
    if (org.members !== undefined && !Array.isArray(org.members)) throw new Error(`organization ${org.name}: members must be a list`);
  }

  /** The membership state of an organization object, made (from its `members`) at first use. */
  of(org) {
    let st = this.state.get(org);
    if (!st) {
      this.check(org);
      st = { members: new Map(), order: [], seq: 0 };
      this.state.set(org, st);
      for (const m of org.members || []) {
        const userId = typeof m === 'string' ? m : m && m.user_id;
        if (!this.emu.users.has(userId)) throw new Error(`organization ${org.name}: member ${JSON.stringify(userId)} is not a user`);
        this.join(org, userId);
        const roles = typeof m === 'string' ? [] : m.roles || [];
        const bad = this.checkRoles(org, userId, roles);
        if (bad) throw new Error(`organization ${org.name}, member ${userId}: ${bad}`);
        this.grant(org, userId, roles);
      }
    }
    return st;
  }

  /** Drops the members whose user is gone, when a user has been deleted since the last look. */
  purge() {
    if (this.emu.users.deletedCount === this.deletedSeen) return;
    this.deletedSeen = this.emu.users.deletedCount;
    for (const org of this.emu.organizations) {
      const st = this.of(org);
      for (const id of [...st.members.keys()]) if (!this.emu.users.has(id)) this.leave(org, id);
    }
  }

  find(key, value) {
    this.purge();
    return this.emu.organizations.find((o) => o[key] === value) || null;
  }

  byId(id) {
    return this.find('id', id);
  }

  byName(name) {
    return this.find('name', name);
  }

  /** Test hook: a new organization (same shape as the fixture's); returns it. */
  add(org) {
    const o = { ...org };
    this.check(o);
    if (this.emu.organizations.some((x) => x.id === o.id || x.name === o.name)) throw new Error(`organization ${o.id} (${o.name}) exists already`);
    this.emu.organizations.push(o);
    this.of(o);
    return o;
  }

  /** Test hook: makes the user a member (with these organization roles, which must exist). */
  addMember(orgId, userId, roles = []) {
    const org = this.byId(orgId);
    if (!org) throw new Error(`no organization ${orgId}`);
    if (!this.emu.users.has(userId)) throw new Error(`no user ${userId}`);
    const bad = this.checkRoles(org, userId, roles);
    if (bad) throw new Error(`organization ${org.name}, member ${userId}: ${bad}`);
    this.join(org, userId);
    this.grant(org, userId, roles);
  }

  /** The members of an organization in join order: [{seq, user_id, roles}]. */
  members(org) {
    this.purge();
    return this.of(org).order;
  }

  member(org, userId) {
    this.purge();
    return this.of(org).members.get(userId) || null;
  }

  join(org, userId) {
    const st = this.of(org);
    if (st.members.has(userId)) return false;
    const m = { seq: ++st.seq, user_id: userId, roles: [] };
    st.members.set(userId, m);
    st.order.push(m);
    return true;
  }

  /** Removing a member also removes its organization roles (they belong to the membership). */
  leave(org, userId) {
    const st = this.of(org);
    const m = st.members.get(userId);
    if (!m) return false;
    st.members.delete(userId);
    st.order.splice(st.order.indexOf(m), 1);
    return true;
  }

  /** Why these roles cannot be given to the member (a message), or null. */
  checkRoles(org, userId, roles) {
    if (!Array.isArray(roles)) return 'roles must be a list of role ids';
    const unknown = roles.find((r) => !this.emu.roles.some((x) => x.id === r));
    if (unknown !== undefined) return `One or more roles do not exist: ${unknown}`;
    if (this.rolesAfter(org, userId, roles) > MEMBER_ROLE_CAP) return `a member can hold at most ${MEMBER_ROLE_CAP} roles in an organization`;
    return null;
  }

  /** How many organization roles the member would hold with these too. */
  rolesAfter(org, userId, roles) {
    const m = this.of(org).members.get(userId);
    return new Set([...(m ? m.roles : []), ...roles]).size;
  }

  grant(org, userId, roles) {
    const m = this.of(org).members.get(userId);
    for (const r of roles) if (!m.roles.includes(r)) m.roles.push(r);
  }

  revoke(org, userId, roles) {
    const m = this.of(org).members.get(userId);
    m.roles = m.roles.filter((r) => !roles.includes(r));
  }

  /** The organizations the user is a member of, in organization order. */
  organizationsOf(userId) {
    this.purge();
    return this.emu.organizations.filter((o) => this.of(o).members.has(userId));
  }

  /** Assertion helpers: plain ids. */
  memberIds(orgId) {
    const org = this.byId(orgId);
    return org ? this.members(org).map((m) => m.user_id) : null;
  }

  memberRoles(orgId, userId) {
    const org = this.byId(orgId);
    const m = org && this.member(org, userId);
    return m ? [...m.roles] : null;
  }

  organizationIdsOf(userId) {
    return this.organizationsOf(userId).map((o) => o.id);
  }
}

/** An organization as the Management API shows it (the Organization schema's fields it has). */
function organizationView(org) {
  const out = { id: org.id, name: org.name, display_name: org.display_name || org.name };
  if (org.metadata !== undefined) out.metadata = org.metadata;
  if (org.branding !== undefined) out.branding = org.branding;
  return out;
}

const stores = new WeakMap();
/** The emulator's organizations store, made at its first use. */
function organizationsOf(emu) {
  if (!stores.has(emu)) stores.set(emu, new OrganizationsStore(emu));
  return stores.get(emu);
}

module.exports = { organizationsOf, organizationView, OrganizationsStore, ORG_ID, ORG_NAME, MEMBER_ROLE_CAP };
