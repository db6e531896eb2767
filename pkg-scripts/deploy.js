#!/usr/bin/env node
'use strict';
// npm run deploy: creates or updates the Action through the Management API, deploys it and
// binds it to its trigger(s), keeping every other binding. Idempotent. --dry-run sends no
// request at all and prints every request a real run would send (its branches included);
// --plan sends the token request and GETs only, and prints the exact changes. Node
// built-ins only (global fetch): Node 18, 20, 22.
// The parts: deploy/read.js reads the tenant, deploy/plan.js decides, deploy/apply.js
// carries a plan out, deploy/print.js prints one; this file only wires them to the command line.
const path = require('node:path');
const { UsageError, ConfigError, DeployError, USAGE_EXIT } = require('./lib/errors.js');
const { parseArgs, usageMessage } = require('./lib/args.js');
const { loadEnv } = require('./lib/env.js');
const { loadCode, CODE_LIMIT } = require('./lib/action-code.js');
const { RUNTIME, DEFAULT_NAME, actionName, checkName, triggersOf } = require('./lib/triggers.js');
const { deployerConfig, actionSecrets, codeWithFingerprint, secretsFingerprint } = require('./deploy/config.js');
const { Management, ApiError, Redactor } = require('./deploy/client.js');
const { readTenant } = require('./deploy/read.js');
const { desiredFor, planDeploy, planUndeploy, scopesOf } = require('./deploy/plan.js');
const { Applier } = require('./deploy/apply.js');
const { headline, planLines, dryRunLines } = require('./deploy/print.js');
const { checkTenant, actionClient, report } = require('./lib/tenant-check.js');

const USAGE = `Usage: npm run deploy -- [options]

Creates or updates the Action, deploys it and binds it to the trigger (appended after the
Actions already bound, which are kept). A second run with nothing changed sends no change.

Options:
  --trigger T       post-login (default) or post-user-registration; repeat for both. Auth0
                    Actions target one trigger each: post-login gets NAME, the other
                    NAME-post-user-registration.
  --name NAME       the Action's name (default ${DEFAULT_NAME})
  --env-file FILE   read variables from FILE (default .env; the environment wins)
  --policy FILE     the POLICY secret from FILE (overrides POLICY)
  --dry-run         send no request at all (not even the token request): print, in order,
                    every request a real run would send, with the branches that depend on
                    the tenant (secret values as ***, the code as bytes + sha256)
  --plan            read only: request a token and GET the Action and the bindings, then
                    print the exact changes a real run would send (secrets as ***)
  --undeploy        remove our binding(s), keep every other binding and the Action itself
  --no-build        do not rebuild a stale dist/action.js
  --action FILE     deploy FILE instead of dist/action.js (never rebuilt)
  --wait SECONDS    how long to wait for Auth0 to build the Action (default 30)
  --verbose         print every HTTP request

Environment (or .env):
  AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET
      the tenant and the deployer application (Management API scopes read:actions,
      create:actions, update:actions)
  PROVISION_CLIENT_ID, PROVISION_CLIENT_SECRET
      the provisioning application: become the Action's AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET
  PROVISION_DOMAIN  optional: the Action's AUTH0_DOMAIN (default AUTH0_DOMAIN)
  POLICY            optional: the policy, inline JSON or a path to a JSON file
  TIMEOUT_MS        optional: the Action's TIMEOUT_MS
  DEPLOY_POLICY_CHECKER  optional: the \`policy\` executable that checks the Action's
                    secrets (\`policy check-secrets\`, the Action's own checks); default
                    target/release/policy, built with cargo when missing or stale
`;

const OPTIONS = {
  'dry-run': { type: 'boolean' },
  plan: { type: 'boolean' },
  'no-build': { type: 'boolean' },
  undeploy: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean' },
  'env-file': { type: 'string' },
  name: { type: 'string' },
  policy: { type: 'string' },
  action: { type: 'string' },
  wait: { type: 'string' },
  trigger: { type: 'string', multiple: true },
};

/** The Action we deploy (its code with the fingerprint line, its secrets); printed as checked. */
function desiredAction(allEnv, args, { say, warn, redactor, triggers }) {
  const { secrets, policy, checked } = actionSecrets(allEnv, { policyFile: args.policy, log: warn });
  for (const s of secrets) if (s.name !== 'AUTH0_DOMAIN' && s.name !== 'AUTH0_CLIENT_ID') redactor.add(s.value);
  if (!policy) warn('warning: no POLICY given: the Action will run with the policy baked into its code (npm run build -- --policy FILE), if any');
  const { code, file, size } = loadCode({ file: args.action, noBuild: !!args['no-build'], log: warn, triggers });
  const full = codeWithFingerprint(code, secrets);
  if (Buffer.byteLength(full) > CODE_LIMIT) throw new ConfigError(`the code is ${Buffer.byteLength(full)} bytes with its fingerprint line: over Auth0's ${CODE_LIMIT}`);
  say(`code: ${path.relative(process.cwd(), file) || file} (${size} bytes); secrets: ${secrets.map((s) => s.name).join(', ')}` +
    `${policy ? ` (POLICY from ${policy.source}, ${policy.text.length} chars, ${checked.policy_rules} rule(s))` : ''}; ` +
    `checked by \`policy check-secrets\` (${checked.checker}): deadline ${checked.timeout_ms} ms`);
  return {
    baseCode: code.endsWith('\n') ? code : code + '\n',
    code: full,
    secrets,
    fingerprint: secretsFingerprint(secrets),
    runtime: RUNTIME,
  };
}

/**
 * `policy check --tenant` before any change: a role name with a typo or a missing
 * permission would otherwise fail at every login. A client Auth0 refuses is a warning: its
 * secret may be rotating, and the Action's own checks report it at login.
 */
async function tenantCheck(allEnv, desired, { say, warn, redactor }) {
  const policy = JSON.parse(desired.secrets.find((s) => s.name === 'POLICY').value);
  const client = actionClient(allEnv, { say, redactor });
  let findings;
  try {
    findings = await checkTenant(client, policy);
  } catch (e) {
    if (e instanceof ApiError && e.path === '/oauth/token') {
      warn(`warning: tenant check skipped: the Action's client could not get a token (${e.message})`);
      return;
    }
    throw e;
  }
  const problems = findings.filter((f) => f.level !== 'ok');
  if (report(problems, say)) throw new ConfigError('the policy names what the tenant lacks (the errors above, from `policy check --tenant`). Nothing was changed.');
}

async function main(argv, { stdout = process.stdout, stderr = process.stderr, env = process.env } = {}) {
  const redactor = new Redactor();
  const say = (l) => stdout.write(redactor.text(l) + '\n');
  const warn = (l) => stderr.write(redactor.text(l) + '\n');
  try {
    const { values: args } = parseArgs(argv, OPTIONS);
    if (args.help) {
      stdout.write(USAGE);
      return 0;
    }
    const triggers = triggersOf(args.trigger);
    const base = checkName(args.name || DEFAULT_NAME);
    const waitS = args.wait === undefined ? 30 : Number(args.wait);
    if (!Number.isFinite(waitS) || waitS <= 0 || waitS > 600) throw new UsageError('--wait must be a number of seconds (0 < s ≤ 600)');
    const dryRun = !!args['dry-run'];
    const planOnly = !!args.plan;
    if (dryRun && planOnly) throw new UsageError('--dry-run and --plan exclude each other (--dry-run sends nothing; --plan only reads)');
    const undeploy = !!args.undeploy;

    const allEnv = loadEnv(args['env-file'] || '.env', { explicit: args['env-file'] !== undefined, env });
    for (const k of ['AUTH0_CLIENT_SECRET', 'PROVISION_CLIENT_SECRET']) redactor.add(allEnv[k]);
    const deployer = deployerConfig(allEnv, { log: warn });

    // Everything is checked before the first request.
    const desired = undeploy ? null : desiredAction(allEnv, args, { say, warn, redactor, triggers });

    const mgmt = new Management({ ...deployer, say, verbose: !!args.verbose, redactor });
    say(`tenant: ${deployer.origin} (deployer ${deployer.clientId})${dryRun ? ' — dry run: no request is sent' : planOnly ? ' — plan: reads only' : ''}`);
    if (dryRun) {
      for (const l of dryRunLines({ tokenBody: mgmt.tokenRequestBody(), triggers, base, desired, undeploy, waitS })) say(l);
      say('dry run: sent no request (not even the token request); `--plan` reads the tenant and prints the exact changes');
      return 0;
    }
    if (desired && desired.secrets.some((s) => s.name === 'POLICY')) await tenantCheck(allEnv, desired, { say, warn, redactor });
    await mgmt.authenticate();
    const missingRead = mgmt.missingScopes(['read:actions']);
    if (missingRead.length) throw new ConfigError(`the deployer application lacks the scope read:actions (its token grants: ${mgmt.scopes.join(' ') || 'nothing'})`);

    const plans = [];
    for (const trigger of triggers) {
      const name = actionName(base, trigger);
      const state = await readTenant(mgmt, trigger, name);
      plans.push(undeploy ? planUndeploy({ trigger, name, ...state }) : planDeploy({ trigger, name, desired: desiredFor(desired, trigger), ...state }));
    }
    const missing = mgmt.missingScopes(plans.flatMap((p) => scopesOf(p.steps)));
    if (missing.length) {
      throw new ConfigError(`the deployer application lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
        `(needed to ${missing.includes('create:actions') ? 'create or deploy' : 'update or bind'} the Action); its token grants: ${mgmt.scopes.join(' ')}. ` +
        'Grant it in Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications. Nothing was changed.');
    }

    const applier = new Applier({ mgmt, say, waitMs: waitS * 1000 });
    let changed = 0;
    for (const p of plans) {
      say(headline(p, { undeploy, planOnly }));
      if (!p.steps.length) continue;
      changed++;
      if (planOnly) for (const l of planLines(p)) say(l);
      else await applier.apply(p);
    }
    const writes = mgmt.sent.filter((r) => r.method !== 'GET' && r.path !== '/oauth/token').length;
    if (planOnly) say(`plan: nothing was changed (sent only the token request and ${mgmt.sent.filter((r) => r.method === 'GET').length} GETs)`);
    else if (!changed) say('nothing to change: only reads were sent');
    else say(`done: ${writes} change request${writes === 1 ? '' : 's'} sent`);
    if (undeploy && !planOnly && changed) say('the Action itself is kept (delete it in the dashboard if it is no longer wanted)');
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      warn(usageMessage('deploy', e.message, USAGE));
      return USAGE_EXIT;
    }
    if (e instanceof ConfigError || e instanceof DeployError || e instanceof ApiError) {
      warn(`deploy failed: ${e.message}`);
      if (e instanceof ApiError && e.status !== 401 && e.status !== 403) warn('(re-running is safe: it picks up where this run stopped)');
      return 1;
    }
    warn(`deploy failed: ${e && e.stack ? e.stack : e}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}

module.exports = { main };
