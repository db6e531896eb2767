#!/usr/bin/env node
// The main job on the embedded default: starts the local tenant emulator, loads the built
// dist/action.js as Auth0 would, and plays a scripted story, printing per login the
// decision, the claims and every Management API request. Then reconcile: the same policy
// applied to a small seeded tenant of users who existed before the Action.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Writable } = require('node:stream');
const { TenantEmulator } = require('./emulator/server.js');
const { ActionsRunner } = require('./emulator/runner.js');
const { parseCommandLine } = require('./lib/args.js');
const { readPolicyFile } = require('./lib/policy-input.js');

const ROOT = path.resolve(__dirname, '..');
const RECONCILE_USERS = 200;

/** Runs `npm run reconcile -- args` in this process (the emulator keeps serving): {code, lines}. */
async function reconcile(args, env) {
  const { main } = require('./reconcile.js');
  let text = '';
  const sink = new Writable({ write(chunk, _enc, done) { text += chunk; done(); } });
  // Progress lines and notes are left out, except the one saying the core is being built
  // (a fresh clone: reconcile builds target/release/policy with cargo, about a minute).
  const quiet = new Writable({ write(c, _e, done) { if (/^target\/release\/policy/.test(String(c))) process.stderr.write(c); done(); } });
  const code = await main(['--env-file', os.devNull, ...args], { stdout: sink, stderr: quiet, env: { ...env, RECONCILE_PROGRESS_MS: '3600000' } });
  return { code, lines: text.split('\n').filter((l) => l.trim()) };
}

/**
 * The reconcile chapter: users who signed up before the Action get what the policy gives
 * them without logging in — a dry run (the plan), --apply, and a re-run that writes nothing.
 */
async function reconcileChapter(policyFile) {
  const { seedFixture } = require('./emulator/seed.js');
  const fixture = seedFixture();
  const emu = new TenantEmulator(fixture, { seed: { users: RECONCILE_USERS, seed: 7 } });
  const origin = await emu.start();
  const env = { AUTH0_DOMAIN: origin, AUTH0_CLIENT_ID: fixture.clients[0].client_id, AUTH0_CLIENT_SECRET: fixture.clients[0].client_secret };
  const writes = () => Object.entries(emu.routeStats()).filter(([r]) => /^(POST|PATCH|DELETE) \/api\/v2\/(?!jobs)/.test(r)).reduce((a, [, c]) => a + c.requests, 0);
  const cmd = `npm run reconcile -- --policy ${path.relative(ROOT, policyFile)}`;
  const step = async (title, args, pick) => {
    console.log(`\n  $ ${cmd}${args.length ? ' ' + args.join(' ') : ''}    # ${title}`);
    const before = writes();
    const r = await reconcile(['--policy', policyFile, ...args], env);
    for (const l of pick(r.lines)) console.log(`    ${l}`);
    console.log(`    (exit ${r.code}; the tenant saw ${writes() - before} write request(s))`);
    if (r.code !== 0) throw new Error(`reconcile ${args.join(' ')} exited ${r.code}:\n${r.lines.join('\n')}`);
  };
  try {
    console.log(`\n## 7. reconcile: ${RECONCILE_USERS} users who signed up before the Action (a seeded tenant) get the policy without logging in`);
    const from = (re) => (lines) => lines.slice(Math.max(0, lines.findIndex((l) => re.test(l))));
    await step('dry run: the plan, nothing written', [], (ls) => ls.filter((l) => !/^(tenant:|time --apply| {2}(user|role-member) writes)/.test(l)));
    await step('carries the plan out', ['--apply'], from(/^writes sent:/));
    await step('again: the tenant already matches', ['--apply'], from(/^writes sent:/));
  } finally {
    await emu.stop();
  }
}
const USAGE = `Usage: node pkg-scripts/demo.js [--policy FILE] [--action FILE]

  --policy FILE   the POLICY secret (default pkg-scripts/policies/premium-for-google.json)
  --action FILE   the Action to run (default dist/action.js)
`;

async function main() {
  const { values: args } = parseCommandLine('demo', USAGE, { policy: { type: 'string' }, action: { type: 'string' } });
  const actionPath = path.resolve(ROOT, args.action ?? 'dist/action.js');
  if (!fs.existsSync(actionPath)) throw new Error(`${actionPath} not found: run npm run build`);
  const policyFile = path.resolve(ROOT, args.policy ?? 'pkg-scripts/policies/premium-for-google.json');
  const policy = readPolicyFile(policyFile, '--policy');
  const fixture = require('./emulator/fixture.json');
  const emu = new TenantEmulator(fixture);
  const origin = await emu.start();
  const m2m = fixture.clients[0];
  const runner = new ActionsRunner({
    emulator: emu,
    actionPath,
    secrets: { AUTH0_DOMAIN: origin, AUTH0_CLIENT_ID: m2m.client_id, AUTH0_CLIENT_SECRET: m2m.client_secret, POLICY: policy },
  });
  const name = (id) => emu.users.get(id).name;
  console.log(`local tenant emulator at ${origin}; policy ${path.relative(ROOT, policyFile)}:`);
  console.log('  ' + JSON.stringify(JSON.parse(policy)));
  let total = 0;

  const show = (title, r) => {
    total += r.requests.length;
    console.log(`\n## ${title}`);
    const o = r.outcome || {};
    const decision = r.denied ? `DENIED (${r.denyReason})`
      : o.error ? `allowed; provisioning failed: ${o.error}`
      : o.assigned && o.assigned.length ? `assign ${o.assigned.join(', ')} (rules: ${o.matched.join(', ')})`
      : o.matched && o.matched.length ? `nothing to do: rules ${o.matched.join(', ')} matched, roles already held`
      : 'nothing to do: no rule matched';
    console.log(`  decision : ${decision}`);
    if (r.idClaims) console.log(`  claims   : id ${JSON.stringify(r.idClaims)} access ${JSON.stringify(r.accessClaims)}`);
    if (r.appMetadata && Object.keys(r.appMetadata).length) console.log(`  metadata : app_metadata ${JSON.stringify(r.appMetadata)}`);
    console.log(`  requests : ${r.requests.length} Management API request(s) in ${r.ms.toFixed(1)} ms`);
    for (const q of r.requests) {
      const body = q.body ? ' ' + JSON.stringify(q.body).replace(/"client_secret":"[^"]*"/, '"client_secret":"***"') : '';
      console.log(`    ${String(q.status).padStart(3)} ${q.route.split(' ')[0]} ${q.path}${body}`);
    }
    for (const line of r.logs) console.log(`  log      : ${line}`);
  };

  const U = {
    ada: 'google-oauth2|101234567890123456789',
    grace: 'google-oauth2|109876543210987654321',
    alan: 'google-oauth2|100000000000000000042',
    dennis: 'auth0|6543a1b2c3d4e5f607182930',
    barbara: 'google-oauth2|111111111111111111111',
  };
  show(`1. first Google sign-up, cold container: ${name(U.ada)}`, await runner.login(U.ada));
  show(`2. second Google sign-up, warm container: ${name(U.grace)}`, await runner.login(U.grace));
  show(`3. returning user who holds the role: ${name(U.alan)}`, await runner.login(U.alan));
  show(`4a. database sign-up (post-user-registration): ${name(U.dennis)}`, await runner.register(U.dennis));
  show(`4b. database sign-up, first login: ${name(U.dennis)}`, await runner.login(U.dennis));
  emu.injectFault({ method: 'POST', path: '/api/v2/users/', status: 503, times: Infinity });
  show(`5. Google sign-up while the Management API fails (503 on assignment): ${name(U.barbara)}`, await runner.login(U.barbara));
  emu.clearFaults();
  show(`6. ${name(U.barbara)} logs in again: the pending provisioning heals`, await runner.login(U.barbara));

  console.log('\n## tenant state after the story');
  for (const id of Object.values(U)) {
    const u = emu.users.get(id);
    const pending = u.app_metadata.provisioning_pending ? ` pending=${JSON.stringify(u.app_metadata.provisioning_pending)}` : '';
    console.log(`  ${u.name.padEnd(15)} ${id.padEnd(38)} roles=${JSON.stringify(emu.roleNames(id))}${pending}`);
  }
  await emu.stop();
  await reconcileChapter(policyFile);
  const size = fs.statSync(actionPath).size;
  console.log(`\n${total} Management API requests in the login story; ${path.relative(ROOT, actionPath)} is ${size} bytes (${(size / 1024).toFixed(1)} KiB, Auth0 limit 100 kB)`);
}

main().catch((e) => {
  console.error(`demo failed: ${e.message}`);
  process.exit(1);
});
