'use strict';
// `npm run policy -- explain POLICY.json --user USER_ID`: one real user, read from the tenant
// (GET /users/{id} and GET /users/{id}/roles, read-only), explained by the core exactly as
// reconcile plans it (`policy reconcile-plan --explain`): which rule matched and why, and the
// writes a reconcile --apply would send for this user.
const { UsageError, ConfigError } = require('../lib/errors.js');
const { parseArgs } = require('../lib/args.js');
const { loadEnv } = require('../lib/env.js');
const { policyBinary } = require('../lib/check-secrets.js');
const { deployerConfig } = require('../deploy/config.js');
const { ApiError, Redactor } = require('../deploy/client.js');
const { TenantClient } = require('./client.js');
const { listRoles, resolveRoles } = require('./memberships.js');
const { planStream, policyRoles, writeRolesFile } = require('./core.js');
const { FIELDS } = require('./read-source.js');

const USAGE = `Usage: policy explain POLICY.json --user USER_ID [--env-file FILE]

Reads the user from the tenant (GET /users/{id}, GET /users/{id}/roles: read-only) and prints
the core's explanation of what reconcile would do for them: each rule's outcome and why, then
the writes, in the order --apply sends them. The tenant and credentials come from the
environment / .env as npm run reconcile reads them (AUTH0_DOMAIN, AUTH0_CLIENT_ID,
AUTH0_CLIENT_SECRET; scopes read:users, read:roles).

(Without --user: \`policy explain POLICY.json EVENT.json\` explains a login event, offline.)
`;

async function userRoles(client, id) {
  const ids = [];
  for (let page = 0; ; page++) {
    const body = await client.call('GET', `/api/v2/users/${encodeURIComponent(id)}/roles`, { query: { per_page: 100, page, include_totals: true } });
    const roles = body && Array.isArray(body.roles) ? body.roles : Array.isArray(body) ? body : [];
    ids.push(...roles.map((r) => r.id));
    if (!roles.length || !body.total || ids.length >= body.total) return ids;
  }
}

/** Runs the command; returns the exit code (0 explained, 1 a failure, a UsageError thrown). */
async function explainUser(argv, { stdout = process.stdout, stderr = process.stderr, env = process.env } = {}) {
  const { values, positionals } = parseArgs(argv, { user: { type: 'string' }, 'env-file': { type: 'string' }, help: { type: 'boolean' } }, { positionals: true });
  if (values.help) {
    stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one policy file');
  if (!values.user) throw new UsageError('--user needs a user id');
  const redactor = new Redactor();
  const say = (l) => stdout.write(redactor.text(l) + '\n');
  const warn = (l) => stderr.write(redactor.text(l) + '\n');
  const allEnv = loadEnv(values['env-file'] || '.env', { explicit: values['env-file'] !== undefined, env });
  redactor.add(allEnv.AUTH0_CLIENT_SECRET);
  let rolesFile = null;
  try {
    const cfg = deployerConfig(allEnv, { log: warn });
    const bin = policyBinary(allEnv, warn);
    const wanted = policyRoles(bin, positionals[0]);
    const client = new TenantClient({ origin: cfg.origin, clientId: cfg.clientId, clientSecret: cfg.clientSecret, say: warn, redactor });
    await client.authenticate();
    const table = resolveRoles(wanted, wanted.names.length || wanted.ids.length ? await listRoles(client) : []);
    let user;
    try {
      user = await client.call('GET', `/api/v2/users/${encodeURIComponent(values.user)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new ConfigError(`no user ${values.user} in the tenant`);
      throw e;
    }
    const held = new Set(await userRoles(client, values.user));
    const record = Object.fromEntries(FIELDS.filter((k) => user[k] !== undefined).map((k) => [k, user[k]]));
    rolesFile = writeRolesFile(table);
    const inputs = [{ user: record, roles: table.filter((r) => held.has(r.id)).map((r) => r.id) }];
    for await (const { plan } of planStream({ bin, policyFile: positionals[0], rolesFile: rolesFile.file, explain: true, inputs })) {
      if (plan.error) throw new ConfigError(`the core refused the user's record: ${plan.error}`);
      for (const l of plan.explain || []) say(l);
      say(`changes: ${plan.changes}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ApiError || e instanceof ConfigError) {
      warn(`policy explain: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    if (rolesFile) rolesFile.remove();
  }
}

module.exports = { explainUser, USAGE };
