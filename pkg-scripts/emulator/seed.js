'use strict';
// A generated tenant of N users for the bulk tools (reconcile) to run against: deterministic
// (a user is a pure function of (seed, index), so the same N and seed give the same tenant,
// and the first k users are the same whatever N), and memory-light (users-store.js makes a
// user when it is read and keeps only those written to).
//
// The mix, per user (independent draws from a PRNG seeded with (seed, index)):
// - provider: google-oauth2 40% | auth0 (Username-Password-Authentication) 30% | github 10% |
//   samlp (connection acme-saml) 10% | email (passwordless) 10%;
// - email: first.last.<index>@domain: google gmail.com (acme.com 10%, Workspace); auth0 and
//   email from gmail.com, example.com, acme.com, outlook.com, yahoo.com; github gmail.com or
//   example.com; samlp acme.com;
// - email_verified: google, samlp, email true; github 80%; auth0 60%;
// - app_metadata.plan: premium 20% | trial 10% (with trial_ends) | free 10% | none 60%
//   (of those, 5% carry {legacy_import: true});
// - user_metadata: {theme} 25%; {plan: 'premium'} 5% (self-set, so untrusted); else {};
// - roles: "Premium User" for 85% of plan=premium users and 1% of the others (stale);
//   "Premium User (Legacy)" 5% of plan=premium; "Admin" 0.1% (by hand, any user); "Trial
//   User" 70% of plan=trial; "Employee" 50% of samlp users;
// - logins_count: 0 for 15%, else 1..500 (skewed low); created_at from 2019-01-01 on, in
//   index order (about 100 s apart); last_login when logins_count > 0.
const crypto = require('node:crypto');
const FIXTURE = require('./fixture.json');

const PROVIDERS = [
  [0.40, 'google-oauth2', 'google-oauth2'],
  [0.70, 'auth0', 'Username-Password-Authentication'],
  [0.80, 'github', 'github'],
  [0.90, 'samlp', 'acme-saml'],
  [1.00, 'email', 'email'],
];
const STRATEGIES = { 'google-oauth2': 'google-oauth2', 'Username-Password-Authentication': 'auth0', github: 'github', 'acme-saml': 'samlp', email: 'email' };
const MIXED_DOMAINS = ['gmail.com', 'example.com', 'acme.com', 'outlook.com', 'yahoo.com'];
const FIRST = ['ada', 'grace', 'alan', 'dennis', 'barbara', 'ken', 'margaret', 'linus', 'frances', 'edsger', 'donald', 'radia', 'john', 'hedy', 'tim', 'katherine'];
const LAST = ['lovelace', 'hopper', 'turing', 'ritchie', 'liskov', 'thompson', 'hamilton', 'torvalds', 'allen', 'dijkstra', 'knuth', 'perlman', 'mccarthy', 'lamarr', 'berners-lee', 'johnson'];
const BASE_MS = Date.UTC(2019, 0, 1);
const DAY_MS = 86400000;

/** A 32-bit hash of a string (FNV-1a), for seeds given as text. */
function hashText(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** murmur3's finalizer: a well-mixed 32-bit value of (a, b). */
function mix(a, b) {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: a small, fast PRNG of floats in [0, 1). */
function prng(state) {
  let s = state >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DRAWS = new Float64Array(15);
const hex8 = (n) => n.toString(16).padStart(8, '0');
const pick = (list, r) => list[Math.floor(r * list.length)];

/**
 * The generator users-store.js takes: {count, idOf, indexOf, make, roleIdsOf, traits}.
 * @param {object} o users: N; seed: number or string (default 1); roles: [{id, name}] (role
 *   names the mix uses that are missing are skipped)
 */
function makeGenerator({ users, seed = 1, roles = FIXTURE.roles }) {
  if (!Number.isInteger(users) || users < 0 || users > 50_000_000) throw new Error(`seed users must be an integer from 0 to 50,000,000, not ${users}`);
  const s = typeof seed === 'number' ? seed >>> 0 : hashText(String(seed));
  const roleId = new Map(roles.map((r) => [r.name, r.id]));
  const providerOf = (i) => {
    const r = prng(mix(s, i))();
    return PROVIDERS.find(([p]) => r < p);
  };
  const idOf = (i) => {
    const [, provider] = providerOf(i);
    switch (provider) {
      case 'google-oauth2': return `google-oauth2|1${String(i).padStart(20, '0')}`;
      case 'github': return `github|${10000000 + i}`;
      case 'samlp': return `samlp|acme-saml|employee-${i}`;
      default: return `${provider}|${hex8(mix(mix(s, 0x5eed), i))}${i.toString(16).padStart(16, '0')}`;
    }
  };
  const ID_FORMS = [
    /^google-oauth2\|1(\d{20})$/, /^github\|(\d{8,})$/, /^samlp\|acme-saml\|employee-(\d+)$/, /^(?:auth0|email)\|[0-9a-f]{8}([0-9a-f]{16})$/,
  ];
  const indexOf = (id) => {
    if (typeof id !== 'string') return -1;
    for (const [k, re] of ID_FORMS.entries()) {
      const m = re.exec(id);
      if (!m) continue;
      const i = k === 3 ? parseInt(m[1], 16) : k === 1 ? Number(m[1]) - 10000000 : Number(m[1]);
      return Number.isSafeInteger(i) && i >= 0 && i < users && idOf(i) === id ? i : -1;
    }
    return -1;
  };
  /** The draws that make user i, as plain values (a fixed number of draws: no branch shifts the rest). */
  const traits = (i) => {
    const r = prng(mix(s, i));
    const r0 = r(); // the draw providerOf makes
    const [, provider, connection] = PROVIDERS.find(([p]) => r0 < p);
    const d = DRAWS; // reused: traits() runs to the end before anyone else draws
    for (let k = 0; k < d.length; k++) d[k] = r();
    const first = pick(FIRST, d[0]);
    const last = pick(LAST, d[1]);
    const domain = provider === 'google-oauth2' ? (d[2] < 0.9 ? 'gmail.com' : 'acme.com')
      : provider === 'samlp' ? 'acme.com'
        : provider === 'github' ? (d[2] < 0.5 ? 'gmail.com' : 'example.com') : pick(MIXED_DOMAINS, d[2]);
    const verified = provider === 'auth0' ? d[3] < 0.6 : provider === 'github' ? d[3] < 0.8 : true;
    const plan = d[4] < 0.2 ? 'premium' : d[4] < 0.3 ? 'trial' : d[4] < 0.4 ? 'free' : null;
    const roleNames = [];
    if (plan === 'premium' ? d[5] < 0.85 : d[5] < 0.01) roleNames.push('Premium User');
    if (plan === 'premium' && d[6] < 0.05) roleNames.push('Premium User (Legacy)');
    if (d[7] < 0.001) roleNames.push('Admin');
    if (plan === 'trial' && d[8] < 0.7) roleNames.push('Trial User');
    if (provider === 'samlp' && d[14] < 0.5) roleNames.push('Employee');
    const logins = d[9] < 0.15 ? 0 : 1 + Math.floor(d[10] ** 3 * 500);
    const theme = d[11] < 0.25 ? (d[12] < 0.5 ? 'dark' : 'light') : null;
    const selfPlan = !theme && d[11] < 0.30;
    const legacy = !plan && d[12] < 0.05;
    return { provider, connection, first, last, domain, verified, plan, roleNames, logins, theme, selfPlan, legacy, jitter: d[13] };
  };
  const roleIdsOf = (i) => traits(i).roleNames.map((n) => roleId.get(n)).filter(Boolean);
  const make = (i) => {
    const t = traits(i);
    const created = BASE_MS + i * 100000 + Math.floor(t.jitter * 100000);
    const updated = created + Math.floor(t.jitter * 400 * DAY_MS);
    const pic = [1, 2, 3, 4].map((k) => hex8(mix(mix(s, k), i))).join('');
    const app = t.plan === 'premium' ? { plan: 'premium' }
      : t.plan === 'trial' ? { plan: 'trial', trial_ends: new Date(updated + 14 * DAY_MS).toISOString() }
        : t.plan === 'free' ? { plan: 'free' } : t.legacy ? { legacy_import: true } : {};
    const u = {
      user_id: idOf(i),
      email: `${t.first}.${t.last}.${i}@${t.domain}`,
      email_verified: t.verified,
      name: `${cap(t.first)} ${cap(t.last)}`,
      nickname: t.first,
      picture: `https://s.gravatar.com/avatar/${pic}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F${t.first[0]}${t.last[0]}.png`,
      connection: t.connection,
      created_at: new Date(created).toISOString(),
      updated_at: new Date(updated).toISOString(),
      logins_count: t.logins,
      app_metadata: app,
      user_metadata: t.theme ? { theme: t.theme } : t.selfPlan ? { plan: 'premium' } : {},
      roles: t.roleNames.map((n) => roleId.get(n)).filter(Boolean),
      permissions: [],
    };
    if (t.logins > 0) u.last_login = u.updated_at;
    return u;
  };
  // A written-to user keeps only what can change (OWN) as its own properties; the rest is
  // derived from its index when read (a prototype getter), or becomes its own when assigned.
  const proto = {};
  for (const k of DERIVED) {
    Object.defineProperty(proto, k, {
      get() { return make(this[INDEX])[k]; },
      set(v) { Object.defineProperty(this, k, { value: v, writable: true, enumerable: true, configurable: true }); },
      configurable: true,
    });
  }
  /** User i as a store keeps it once written to: about 400 bytes instead of 1 kB. */
  const materialize = (i) => {
    const full = make(i);
    const u = Object.create(proto);
    Object.defineProperty(u, INDEX, { value: i });
    for (const k of OWN) u[k] = full[k];
    return u;
  };
  return { count: users, seed: s, idOf, indexOf, make, materialize, roleIdsOf, traits };
}

const INDEX = Symbol('index');
const OWN = ['updated_at', 'logins_count', 'app_metadata', 'user_metadata', 'roles', 'permissions'];
const DERIVED = ['user_id', 'email', 'email_verified', 'name', 'nickname', 'picture', 'connection', 'created_at', 'last_login'];

const cap = (w) => w.replace(/(^|-)([a-z])/g, (_, a, b) => a + b.toUpperCase());

/** Counts over the whole generated tenant (as generated, before any write): for assertions. */
function seedStats(gen) {
  const out = { users: gen.count, providers: {}, plans: {}, roles: {}, email_verified: 0, never_logged_in: 0, self_set_plan: 0 };
  for (let i = 0; i < gen.count; i++) {
    const t = gen.traits(i);
    out.providers[t.provider] = (out.providers[t.provider] || 0) + 1;
    out.plans[t.plan || 'none'] = (out.plans[t.plan || 'none'] || 0) + 1;
    for (const n of t.roleNames) out.roles[n] = (out.roles[n] || 0) + 1;
    if (t.verified) out.email_verified++;
    if (t.logins === 0) out.never_logged_in++;
    if (t.selfPlan) out.self_set_plan++;
  }
  return out;
}

/** The M2M client's scopes: what reconcile needs, what deploy needs, what the Action needs. */
const SEED_SCOPES = [
  'read:users', 'update:users', 'update:users_app_metadata', 'read:roles', 'update:roles', 'read:role_members', 'create:role_members',
  'delete:role_members', 'read:actions', 'create:actions', 'update:actions', 'read:clients', 'read:resource_servers',
  'read:organizations', 'read:organization_members', 'create:organization_members', 'delete:organization_members',
  'read:organization_member_roles', 'create:organization_member_roles', 'delete:organization_member_roles',
  'create:user_tickets', 'create:guardian_enrollment_tickets',
];

/**
 * The tenant around the generated users: fixture.json's roles, resource servers and
 * applications; the five connections with Auth0-shaped ids (con_ + 16 characters, so an
 * export can name one); one M2M client (a random secret unless given).
 */
function seedFixture({ clientId = 'emulator-m2m-client', clientSecret = crypto.randomBytes(24).toString('base64url') } = {}) {
  const connections = Object.entries(STRATEGIES).map(([name, strategy]) => ({
    id: `con_${crypto.createHash('sha256').update(`seed-connection:${name}`).digest('hex').slice(0, 16)}`, name, strategy,
  }));
  return {
    clients: [{ client_id: clientId, client_secret: clientSecret, scopes: SEED_SCOPES }],
    applications: FIXTURE.applications,
    connections,
    roles: FIXTURE.roles,
    resource_servers: FIXTURE.resource_servers,
    // fixture.json's organizations (acme, globex) without members: the fixture's member is
    // not a generated user. Tests add members through organizations-store.js.
    organizations: (FIXTURE.organizations || []).map(({ members: _members, ...org }) => org),
    users: [],
  };
}

module.exports = { makeGenerator, seedStats, seedFixture, SEED_SCOPES, hashText, prng };
