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

const TEST_USAGE = `Usage: policy test [--action FILE] [--watch] FILE.test.json...

Runs each case of each test file through the built Action against a fresh local tenant
emulator, and a case's expect.offline through the core's reconcile plan (target/release/policy
reconcile-plan, built when missing); TAP output, then "N passed, M failed". Exit 0 when all
pass, 1 on any failure.

  --action FILE   the Action to run (default dist/action.js; build it with npm run build)
  --watch         run again whenever a test file, its policy or the Action changes

Example: npm run policy -- test pkg-scripts/policies/*.test.json
`;

async function test(argv) {
  const { values, positionals } = parseArgs(argv, { action: { type: 'string' }, watch: { type: 'boolean' }, help: { type: 'boolean' } }, { positionals: true });
  if (values.help) {
    process.stdout.write(TEST_USAGE);
    return 0;
  }
  if (!positionals.length) throw new UsageError('no test file given');
  const actionPath = path.resolve(values.action || path.join(ROOT, 'dist/action.js'));
  if (!fs.existsSync(actionPath)) throw new ConfigError(`${actionPath} not found: run npm run build`);
  const { runTestFiles } = require('./lib/policy-test.js');
  const policyBin = () => policyBinary(process.env, (m) => process.stderr.write(`${m}\n`));
  const run = () => runTestFiles(positionals, { actionPath, policyBin });
  if (values.watch) return require('./lib/policy-test-watch.js').watch(positionals, actionPath, run);
  const { failed } = await run();
  return failed ? 1 : 0;
}

// `check` and `explain` are the Rust core's (which takes `--help` for a file name): their
// usage is written here, with the JS-side options (--tenant, --user) they gain.
const CHECK_USAGE = `Usage: policy check POLICY.json
       policy check --tenant [--env-file FILE] POLICY.json

Validates the policy with the Action's own parser: every error with its JSON path and a hint,
its size as a POLICY secret (limit 4096 characters) and its hash (policy=<8 hex digits>, the
one the Action's log line starts with). Exit 0 valid, 1 invalid, 2 usage.

  --tenant          then, read-only, against the tenant: roles, organizations, permissions,
                    the client's scopes (policy check --tenant --help)
  --env-file FILE   with --tenant: read variables from FILE (default .env)

Example: npm run policy -- check pkg-scripts/policies/premium-for-google.json
`;

const EXPLAIN_USAGE = `Usage: policy explain POLICY.json EVENT.json [--trigger post-login|post-user-registration] [--json]
       policy explain POLICY.json --user USER_ID [--env-file FILE]

With EVENT.json (the event object Auth0 passes the Action), offline: which rules matched, why
the others did not, and the exact plan; sends nothing. With --user: what reconcile would do for
that user of the tenant, read-only (policy explain --user --help).

  --trigger T       post-login (default) or post-user-registration
  --json            the plan as JSON: the requests and api calls of a cold container
  --user USER_ID    explain a user of the tenant instead of an event
  --env-file FILE   with --user: read variables from FILE (default .env)

Example: npm run policy -- explain pkg-scripts/policies/premium-for-google.json event.json --trigger post-login
`;

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

/**
 * `check` and `explain` command lines through the one option parser (unknown options and
 * missing values are usage errors here, as in every tool), rebuilt in the core's own spelling.
 */
function coreCommandLine(sub, argv) {
  if (sub === 'check') {
    const { positionals } = parseArgs(argv, {}, { positionals: true });
    if (positionals.length !== 1) throw new UsageError('give exactly one policy file');
    return ['check', positionals[0]];
  }
  const { values, positionals } = parseArgs(argv, { trigger: { type: 'string' }, json: { type: 'boolean' } }, { positionals: true });
  if (positionals.length !== 2) throw new UsageError('give a policy file and an event file');
  if (values.trigger !== undefined && !['post-login', 'post-user-registration'].includes(values.trigger)) {
    throw new UsageError(`--trigger takes post-login or post-user-registration, not ${JSON.stringify(values.trigger)}`);
  }
  return ['explain', ...positionals, ...(values.trigger ? ['--trigger', values.trigger] : []), ...(values.json ? ['--json'] : [])];
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
    if ((sub === 'check' || sub === 'explain') && rest.some((a) => a === '--help' || a === '-h')) {
      process.stdout.write(sub === 'check' ? CHECK_USAGE : EXPLAIN_USAGE);
      return 0;
    }
    if (sub === 'check' || sub === 'explain') return passThrough(coreCommandLine(sub, rest));
    return passThrough(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      const withUser = rest.some((a) => a === '--user' || a.startsWith('--user='));
      const usage = sub === 'test' ? TEST_USAGE
        : sub === 'explain' ? (withUser ? require('./reconcile/explain-user.js').USAGE : EXPLAIN_USAGE)
          : rest.includes('--tenant') ? CHECK_TENANT_USAGE : CHECK_USAGE;
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
