#!/usr/bin/env node
'use strict';
// `npm run policy -- <subcommand>`: `test` runs here, in JS, because it needs the emulator and
// the built Action, `check --tenant` and `explain --user` because they read the tenant; every
// other subcommand is the Rust core's own (src/bin/policy.rs), passed
// through unchanged so its checks stay the ones the Action runs.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseArgs, usageMessage } = require('./lib/args.js');
const { UsageError, ConfigError, USAGE_EXIT } = require('./lib/errors.js');
const { policyBinary } = require('./lib/check-secrets.js');
const { ROOT } = require('./lib/action-code.js');

const TEST_USAGE = `Usage: policy test [--action FILE] FILE.test.json...

Runs each case of each test file through the built Action against a fresh local tenant
emulator, and a case's expect.offline through the core's reconcile plan (target/release/policy
reconcile-plan, built when missing); TAP output, then "N passed, M failed". Exit 0 when all
pass, 1 on any failure.

  --action FILE   the Action to run (default dist/action.js; build it with npm run build)

Example: npm run policy -- test pkg-scripts/policies/*.test.json
`;

async function test(argv) {
  const { values, positionals } = parseArgs(argv, { action: { type: 'string' }, help: { type: 'boolean' } }, { positionals: true });
  if (values.help) {
    process.stdout.write(TEST_USAGE);
    return 0;
  }
  if (!positionals.length) throw new UsageError('no test file given');
  const actionPath = path.resolve(values.action || path.join(ROOT, 'dist/action.js'));
  if (!fs.existsSync(actionPath)) throw new ConfigError(`${actionPath} not found: run npm run build`);
  const { runTestFiles } = require('./lib/policy-test.js');
  const policyBin = () => policyBinary(process.env, (m) => process.stderr.write(`${m}\n`));
  const { failed } = await runTestFiles(positionals, { actionPath, policyBin });
  return failed ? 1 : 0;
}

const CHECK_TENANT_USAGE = `Usage: policy check --tenant [--env-file FILE] POLICY.json

Everything \`policy check\` does, then read-only against the tenant, as the Action's client
(PROVISION_CLIENT_ID / PROVISION_CLIENT_SECRET on PROVISION_DOMAIN or AUTH0_DOMAIN, from the
environment over .env, as npm run deploy reads them): each role name is exactly one role,
each role id, organization and permission exists, the client has the scopes the policy
needs. One line per finding; exit 1 on any error.

  --env-file FILE   read variables from FILE (default .env; the environment wins)

Example: npm run policy -- check --tenant pkg-scripts/policies/employees-by-email-domain.json
`;

async function checkTenantCommand(argv) {
  const { values, positionals } = parseArgs(argv, { tenant: { type: 'boolean' }, 'env-file': { type: 'string' }, help: { type: 'boolean' } }, { positionals: true });
  if (values.help) {
    process.stdout.write(CHECK_TENANT_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one policy file');
  const offline = passThrough(['check', positionals[0]]);
  if (offline !== 0) return offline;
  const { loadEnv } = require('./lib/env.js');
  const { ApiError } = require('./deploy/client.js');
  const tenantCheck = require('./lib/tenant-check.js');
  const env = loadEnv(values['env-file'] || '.env', { explicit: values['env-file'] !== undefined });
  const say = (l) => process.stdout.write(`${l}\n`);
  const mgmt = tenantCheck.actionClient(env, { say });
  try {
    const policy = JSON.parse(fs.readFileSync(positionals[0], 'utf8'));
    return tenantCheck.report(await tenantCheck.checkTenant(mgmt, policy), say) ? 1 : 0;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    throw new ConfigError(`tenant check failed: ${e.message}`);
  }
}

/** The Rust `policy` with these arguments, its output and exit status as they are. */
function passThrough(argv) {
  const bin = policyBinary(process.env, (m) => process.stderr.write(`${m}\n`));
  const r = spawnSync(bin, argv, { stdio: 'inherit' });
  return r.status === null ? 1 : r.status;
}

async function main(argv = process.argv.slice(2)) {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'test') return await test(rest);
    if (sub === 'check' && rest.includes('--tenant')) return await checkTenantCommand(rest);
    if (sub === 'explain' && rest.some((a) => a === '--user' || a.startsWith('--user='))) return await require('./reconcile/explain-user.js').explainUser(rest);
    return passThrough(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      const usage = sub === 'test' ? TEST_USAGE : sub === 'explain' ? require('./reconcile/explain-user.js').USAGE : CHECK_TENANT_USAGE;
      process.stderr.write(usageMessage(`policy ${sub}`, e.message, usage));
      return USAGE_EXIT;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`policy ${sub}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) main().then((code) => { process.exitCode = code; });

module.exports = { main };
