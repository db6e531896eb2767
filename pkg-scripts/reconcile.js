#!/usr/bin/env node
'use strict';
// npm run reconcile: the policy applied to the users who already exist (the Action only sees
// users as they log in). Reads the tenant (roles, their members, every user), has the Rust
// core plan each user (`policy reconcile-plan`: the same decisions the Action makes), and
// prints the plan; --apply carries it out. The parts: reconcile/memberships.js (roles and
// members), organizations.js (the organizations the policy names), read-source.js (users), core.js (the core as a child process), summary.js and
// changes.js (what the plan means), spool.js + apply.js (the writes), client.js + pace.js
// (requests within the rate limits), progress.js; this file wires them to the command line.
const fs = require('node:fs');
const { once } = require('node:events');
const { UsageError, ConfigError, DeployError, USAGE_EXIT } = require('./lib/errors.js');
const { parseArgs, usageMessage } = require('./lib/args.js');
const { loadEnv } = require('./lib/env.js');
const { policyBinary } = require('./lib/check-secrets.js');
const { deployerConfig } = require('./deploy/config.js');
const { ApiError, Redactor } = require('./deploy/client.js');
const { TenantClient } = require('./reconcile/client.js');
const { listRoles, resolveRoles, readMemberships } = require('./reconcile/memberships.js');
const { resolveOrganizations, readOrgMembers } = require('./reconcile/organizations.js');
const { openSource } = require('./reconcile/read-source.js');
const { planStream, policyRoles, writeRolesFile } = require('./reconcile/core.js');
const { PlanSummary, estimateLines } = require('./reconcile/summary.js');
const { hasWrites, outLine, spoolRecord } = require('./reconcile/changes.js');
const { Spool } = require('./reconcile/spool.js');
const { Applier, reportLines, DEFAULT_CONCURRENCY } = require('./reconcile/apply.js');
const { Progress } = require('./reconcile/progress.js');

const DEFAULT_MAX_CHANGES = 1000;
const INTERRUPTED_EXIT = 130; // 128 + SIGINT, as a shell reports a process stopped by Ctrl-C
const RESUME = 'run the same command again: a re-run plans afresh from the tenant and sends only what is left';
const DEFAULT_BATCH = 100;
const MAX_BATCH = 1000;

const USAGE = `Usage: npm run reconcile -- --policy FILE [options]

Applies the policy to every existing user: reads the tenant, has the policy core plan each
user (the decisions the Action makes at login, from the user's record and roles), prints the
plan. Nothing is changed without --apply. Re-running is safe: every run plans afresh from
the tenant, so a run that stopped (even killed) is completed by the next one, and a tenant
that already matches gets no write at all.

Options:
  --policy FILE       the policy (JSON), as the Action runs it
  --apply             carry the plan out (default: a dry run that writes nothing)
  --max-changes N     refuse to --apply a plan of more than N changes (default ${DEFAULT_MAX_CHANGES}; a
                      change is a role assigned or removed, an organization membership or
                      organization role given, or a metadata key written)
  --out FILE.jsonl    one JSON line per user with a change: user_id, matched rules, each
                      change, why (the conditions that held)
  --source S          where users are read: auto (default: GET /users when the tenant has
                      at most 1,000 users, else a users-export job), search, export
  --sample N          print the core's full explanation for the first N users with changes
  --batch-size N      users per POST /roles/{id}/users (default ${DEFAULT_BATCH}, at most ${MAX_BATCH}). Auth0
                      documents no maximum; 100 is the Management API's page size, one
                      request per 100 grants, and a batch answered 404 (a user deleted
                      mid-run) costs about 2·log2(100) ≈ 14 extra requests to split
  --env-file FILE     read variables from FILE (default .env; the environment wins)
  --verbose           print every retry

Writes (--apply), in phases across all users, ${DEFAULT_CONCURRENCY} requests in flight, paced on the
x-ratelimit-* headers of each endpoint class: 1. DELETE /users/{id}/roles (one per user),
2. PATCH /users/{id} (one per user), 3. POST /roles/{id}/users (batched), then POST
/organizations/{id}/members (up to 10 users each), then POST /organizations/{id}/members/
{user_id}/roles (one per user and organization), 4. PATCH /users/{id} after that user's
grants (it records provisioning_orgs: a user whose access failed gets it on the next run).
Organization names are resolved once (GET /organizations/name/{name}): an unknown name
refuses the run before any write. A user deleted mid-run is counted "gone", not failed.

Environment (or .env), as npm run deploy reads them:
  AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET
      the tenant (https; http only on loopback) and an application with the Management API
      scopes read:users, read:roles, read:role_members; for --apply also update:users,
      create:role_members, delete:role_members; a policy giving organization access also
      read:organizations, read:organization_members and for --apply create:organization_members;
      one giving organization roles also read:organization_member_roles and for --apply
      create:organization_member_roles
  DEPLOY_POLICY_CHECKER   optional: the \`policy\` executable (default target/release/policy,
                      built with cargo when missing or stale)
  RECONCILE_TIMEOUT_MS    optional: per-request timeout (default 30000)

Ctrl-C (SIGINT) during --apply stops after the requests in flight (a second Ctrl-C at once;
the run is safe to kill at any moment); a re-run resumes.

Exit: 0 the run finished (dry run: the plan was printed; --apply: the tenant matches it),
1 a failure (message on stderr; nothing is left half-done that a rerun does not finish),
2 a usage error, 130 interrupted (Ctrl-C).
`;

const OPTIONS = {
  policy: { type: 'string' },
  apply: { type: 'boolean' },
  'max-changes': { type: 'string' },
  out: { type: 'string' },
  source: { type: 'string' },
  sample: { type: 'string' },
  'batch-size': { type: 'string' },
  'env-file': { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean' },
};

function count(value, name, { def, min = 0, max = 1e9 }) {
  if (value === undefined) return def;
  if (!/^\d{1,10}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

/** The command line checked, before anything is read or sent. */
function options(argv) {
  const { values: a } = parseArgs(argv, OPTIONS);
  if (a.help) return { help: true };
  if (!a.policy) throw new UsageError('--policy FILE is required');
  const source = a.source === undefined ? 'auto' : a.source;
  if (!['auto', 'search', 'export'].includes(source)) throw new UsageError('--source must be auto, search or export');
  return {
    policyFile: a.policy,
    apply: !!a.apply,
    maxChanges: count(a['max-changes'], '--max-changes', { def: DEFAULT_MAX_CHANGES }),
    out: a.out,
    source,
    sample: count(a.sample, '--sample', { def: 0, max: 1000 }),
    batchSize: count(a['batch-size'], '--batch-size', { def: DEFAULT_BATCH, min: 1, max: MAX_BATCH }),
    envFile: a['env-file'],
    verbose: !!a.verbose,
  };
}

/** A numeric setting from the environment: a ConfigError naming the variable when it is not one. */
function envCount(env, name, range) {
  try {
    return count(env[name] === '' ? undefined : env[name], name, range);
  } catch (e) {
    throw new ConfigError(e.message);
  }
}

function readPolicy(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`--policy ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`--policy ${file}: not JSON (${e.message})`);
  }
}

const NEEDED = {
  read: [['read:users'], ['read:roles'], ['read:role_members', 'read:users']],
  apply: [['update:users', 'update:users_app_metadata'], ['create:role_members', 'update:roles'], ['delete:role_members', 'update:users']],
};

// Only when the policy gives organization access (reconcile-roles lists organizations).
// Organization roles' scopes only when the policy gives any (`organization_roles`).
const NEEDED_ORGS = {
  read: [['read:organizations'], ['read:organization_members']],
  apply: [['create:organization_members']],
};
const NEEDED_ORG_ROLES = {
  read: [['read:organization_member_roles']],
  apply: [['create:organization_member_roles']],
};

// Only when a retract rule gives organization access (reconcile-roles: organization_retract).
const NEEDED_ORG_RETRACT = { read: [], apply: [['delete:organization_members']] };
const NEEDED_ORG_ROLE_RETRACT = { read: [], apply: [['delete:organization_member_roles']] };

function checkScopes(client, apply, orgs = false, orgRoles = false, retract = false) {
  if (!client.scopes) return;
  const part = (n, on) => (on ? [...n.read, ...(apply ? n.apply : [])] : []);
  const needed = [...part(NEEDED, true), ...part(NEEDED_ORGS, orgs), ...part(NEEDED_ORG_ROLES, orgs && orgRoles),
    ...part(NEEDED_ORG_RETRACT, orgs && retract), ...part(NEEDED_ORG_ROLE_RETRACT, orgs && orgRoles && retract)];
  const missing = needed.filter((any) => !any.some((s) => client.scopes.includes(s)));
  if (missing.length) {
    throw new ConfigError(`the application lacks the scope(s) ${missing.map((m) => m.join(' or ')).join(', ')} (its token grants: ${client.scopes.join(' ') || 'nothing'}); ` +
      'grant them in Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications. Nothing was changed.');
  }
}

/** Reads the tenant and plans every user; returns what the rest of the run needs. */
async function plan(o, ctx) {
  const { client, bin, policy, say, note, progress } = ctx;
  const wanted = ctx.wanted || policyRoles(bin, o.policyFile);
  progress.update({ phase: 'reading roles', unit: 'roles' });
  const table = resolveRoles(wanted, wanted.names.length || wanted.ids.length ? await listRoles(client) : []);
  // Organization names resolved once, before any user is read: an unknown one refuses the run.
  ctx.orgIds = await resolveOrganizations(client, wanted.organizations);
  ctx.rolesFile = writeRolesFile(table);
  progress.update({ phase: 'reading role members', unit: 'members', total: null });
  let members = 0;
  const memberships = await readMemberships(client, table, { onPage: (n) => progress.update({ done: (members += n) }) });
  const orgMembers = ctx.orgIds.size ? await readOrgMembers(client, ctx.orgIds, { roles: wanted.organization_roles === true, onPage: (n) => progress.update({ done: (members += n) }) }) : null;
  const { info, users } = await openSource(client, { source: o.source, origin: client.origin, say: note });
  progress.update({ phase: 'planning users', unit: 'users', total: info.total });
  const inputs = (async function *() {
    for await (const user of users) {
      yield { user, roles: memberships.rolesOf(user.user_id), ...(orgMembers ? { orgs: orgMembers.orgsOf(user.user_id) } : {}) };
    }
  }());
  const summary = new PlanSummary({ policy, batchSize: o.batchSize });
  const out = o.out ? fs.createWriteStream(o.out, { mode: 0o600 }) : null;
  const outDone = out ? new Promise((resolve, reject) => { out.on('error', reject); out.on('finish', resolve); }) : null;
  if (outDone) outDone.catch(() => {});
  const samples = [];
  for await (const { input, plan: p } of planStream({ bin, policyFile: o.policyFile, rolesFile: ctx.rolesFile.file, inputs })) {
    summary.add(p);
    progress.update({ done: summary.users, total: info.total });
    if (!hasWrites(p)) continue;
    if (out && !out.write(JSON.stringify(outLine(p)) + '\n')) await once(out, 'drain');
    if (ctx.spool) await ctx.spool.add(spoolRecord(p));
    if (samples.length < o.sample) samples.push(input);
  }
  if (out) {
    out.end();
    await outDone;
  }
  if (ctx.spool) await ctx.spool.close();
  progress.stop();
  say(`tenant: ${client.origin}; users read by ${info.source === 'export' ? `a users-export job${info.job ? ` (${info.job})` : ''}` : 'GET /users'}; ` +
    `roles: ${table.map((r) => `${r.name} (${r.id}, ${memberships.members.get(r.id).size} members)`).join(', ') || 'none'}` +
    (ctx.orgIds.size ? `; organizations: ${[...ctx.orgIds].map(([k, o]) => (k === o.id ? k : `${k} (${o.id})`)).join(', ')}` : ''));
  if (samples.length) {
    say('');
    for await (const { plan: p } of planStream({ bin, policyFile: o.policyFile, rolesFile: ctx.rolesFile.file, explain: true, inputs: samples })) {
      for (const l of p.explain || [`user ${p.user_id}: ${p.error || 'no explanation'}`]) say(l);
    }
  }
  return { summary, table, info };
}

function planLines(o, summary, client) {
  const min = summary.minimumWrites();
  const reads = client.totals((c) => c !== 'token');
  const lines = ['', ...summary.table(), ''];
  lines.push(`requests --apply will send: ${min.total} write(s): ${min.deletes} DELETE /users/{id}/roles, ` +
    (min.leaveBatches || min.orgRoleRemovals ? `${min.leaveBatches} DELETE /organizations/{id}/members (batches of up to 10), ${min.orgRoleRemovals} DELETE /organizations/{id}/members/{user_id}/roles, ` : '') +
    `${min.patches} PATCH /users/{id}, ` +
    `${min.batches} POST /roles/{id}/users (batches of up to ${o.batchSize}), ` +
    (min.memberBatches || min.orgRoles ? `${min.memberBatches} POST /organizations/{id}/members (batches of up to 10), ${min.orgRoles} POST /organizations/{id}/members/{user_id}/roles, ` : '') +
    `${min.patchAfter} PATCH after the grants; plus reads as in this run (${reads.requests}, ${reads.limited} answered 429)`);
  const latency = reads.requests ? reads.ms / reads.requests : 0;
  lines.push(...estimateLines(min, client.pacer, { concurrency: DEFAULT_CONCURRENCY, latencyMs: latency }));
  return { lines, min };
}

async function main(argv, { stdout = process.stdout, stderr = process.stderr, env = process.env } = {}) {
  const redactor = new Redactor();
  const say = (l) => stdout.write(redactor.text(l) + '\n');
  const warn = (l) => stderr.write(redactor.text(l) + '\n');
  const ctx = { say, spool: null, rolesFile: null };
  const cleanup = () => {
    if (ctx.spool) ctx.spool.remove();
    if (ctx.rolesFile) ctx.rolesFile.remove();
    ctx.spool = null;
    ctx.rolesFile = null;
  };
  // Ctrl-C: while reading nothing has been written, so stop at once; while applying, let the
  // requests in flight finish (their replies are counted in the report), then stop; a
  // second Ctrl-C stops at once (safe too: every run re-derives its plan from the tenant).
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (ctx.applier && interrupts === 1) {
      warn(`interrupted: finishing the requests in flight, then stopping (Ctrl-C again stops at once); ${RESUME}`);
      ctx.applier.stop('interrupted');
      return;
    }
    if (ctx.progress) ctx.progress.stop();
    warn(ctx.applier ? `interrupted again: stopped at once; ${RESUME}` : 'interrupted while reading the tenant: nothing was changed');
    cleanup();
    process.exit(INTERRUPTED_EXIT);
  };
  const watchSigint = stdout === process.stdout; // in-process callers (tests) handle signals themselves
  if (watchSigint) process.on('SIGINT', onSigint);
  try {
    const o = options(argv);
    if (o.help) {
      stdout.write(USAGE);
      return 0;
    }
    const allEnv = loadEnv(o.envFile || '.env', { explicit: o.envFile !== undefined, env });
    redactor.add(allEnv.AUTH0_CLIENT_SECRET);
    const cfg = deployerConfig(allEnv, { log: warn });
    ctx.bin = policyBinary(allEnv, warn);
    ctx.policy = readPolicy(o.policyFile);
    const timeoutMs = envCount(allEnv, 'RECONCILE_TIMEOUT_MS', { def: undefined, min: 100, max: 600000 });
    const client = new TenantClient({ origin: cfg.origin, clientId: cfg.clientId, clientSecret: cfg.clientSecret, say: warn, verbose: o.verbose, redactor, timeoutMs });
    ctx.client = client;
    ctx.note = warn;
    const progressMs = envCount(allEnv, 'RECONCILE_PROGRESS_MS', { def: undefined, min: 10, max: 3600000 });
    ctx.progress = new Progress({ stream: stderr, intervalMs: progressMs, stats: () => client.totals((c) => c !== 'token') });
    ctx.progress.start();
    ctx.wanted = policyRoles(ctx.bin, o.policyFile);
    await client.authenticate();
    checkScopes(client, o.apply, ctx.wanted.organizations.length > 0, ctx.wanted.organization_roles === true, ctx.wanted.organization_retract === true);
    if (o.apply) ctx.spool = new Spool();
    const { summary, table } = await plan(o, ctx);
    const { lines, min } = planLines(o, summary, client);
    for (const l of lines) say(l);
    if (o.out) say(`--out ${o.out}: ${summary.withChanges} line(s), one per user with a change`);
    if (!o.apply) {
      say('dry run: nothing was changed; --apply carries this plan out');
      return 0;
    }
    if (summary.changes > o.maxChanges) {
      throw new ConfigError(`the plan has ${summary.changes} changes, more than --max-changes ${o.maxChanges}: nothing was changed. ` +
        `Check it (a dry run with --out FILE.jsonl), then run again with --max-changes ${summary.changes}.`);
    }
    const readStats = client.totals();
    const applier = new Applier({
      client, batchSize: o.batchSize, roleNames: new Map(table.map((r) => [r.id, r.name])), orgIds: ctx.orgIds,
      onProgress: (s) => ctx.progress.update({ ...s, unit: s.phase.startsWith('POST /roles') ? 'assignments' : s.phase.startsWith('POST /organizations/{id}/members') && !s.phase.endsWith('roles') ? 'memberships' : 'users' }),
    });
    ctx.applier = applier;
    ctx.progress.stats = () => {
      const t = client.totals();
      return { requests: t.requests - readStats.requests, limited: t.limited - readStats.limited };
    };
    ctx.progress.start();
    const rep = await applier.run(ctx.spool);
    ctx.progress.stop();
    say('');
    for (const l of reportLines(rep, min.total)) say(l);
    if (rep.fatal) throw rep.fatal;
    if (rep.stopped) {
      say(`interrupted: ${rep.sent} write(s) sent of ${min.total}, the requests in flight finished; not every change was made: ${RESUME}`);
      return INTERRUPTED_EXIT;
    }
    if (rep.failures) {
      warn(`reconcile: ${rep.failures} change(s) failed (listed above); a rerun retries them`);
      return 1;
    }
    say(`done: the tenant matches the plan${rep.gone ? ` (${rep.gone} user(s) deleted meanwhile)` : ''}`);
    return 0;
  } catch (e) {
    if (ctx.progress) ctx.progress.stop();
    if (e instanceof UsageError) {
      warn(usageMessage('reconcile', e.message, USAGE));
      return USAGE_EXIT;
    }
    if (e instanceof ConfigError || e instanceof DeployError || e instanceof ApiError) {
      warn(`reconcile failed: ${e.message}`);
      return 1;
    }
    warn(`reconcile failed: ${e && e.stack ? e.stack : e}`);
    return 1;
  } finally {
    if (watchSigint) process.removeListener('SIGINT', onSigint);
    cleanup();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}

module.exports = { main, options, USAGE, INTERRUPTED_EXIT };
