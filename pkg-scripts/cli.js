#!/usr/bin/env node
'use strict';
// One command-line entry: `auth0-provision <command> [options]` (package.json `bin`). Each
// command is the tool an `npm run` script runs, given the same options; `<command> --help`
// is that tool's own usage. Exit codes: 0 ok, 1 findings or failures, 2 usage.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const COMMANDS = [
  ['build', ['build.js'], 'build dist/action.js (the size against 64,000 bytes)', 'auth0-provision build --policy pkg-scripts/policies/premium-for-google.json'],
  ['demo', ['demo.js'], 'the story on the local tenant emulator', 'auth0-provision demo'],
  ['emulator', ['emulator/cli.js'], 'the local tenant on its own: N generated users, rate profiles', 'auth0-provision emulator --users 10000 --rate essentials'],
  ['check', ['policy.js', 'check'], 'validate a policy (--tenant: also against the tenant, read-only)', 'auth0-provision check pkg-scripts/policies/premium-for-google.json'],
  ['explain', ['policy.js', 'explain'], 'explain the decision and the plan for an event file', 'auth0-provision explain POLICY.json EVENT.json --trigger post-login'],
  ['test', ['policy.js', 'test'], 'run policy test files (the built Action; offline plans through the core)', 'auth0-provision test pkg-scripts/policies/*.test.json'],
  ['deploy', ['deploy.js'], 'create/update, deploy and bind the Action (--dry-run, --plan)', 'auth0-provision deploy --dry-run'],
  ['export', ['export.js'], 'export for the Auth0 Deploy CLI or Terraform', 'auth0-provision export --format deploy-cli out/'],
  ['reconcile', ['reconcile.js'], 'apply the policy to every existing user (dry run; --apply)', 'auth0-provision reconcile --policy pkg-scripts/policies/premium-for-google.json'],
];

function usage() {
  const width = Math.max(...COMMANDS.map(([name]) => name.length));
  return ['usage: auth0-provision <command> [options]   (auth0-provision <command> --help for its options)', '', 'commands:',
    ...COMMANDS.map(([name, , what]) => `  ${name.padEnd(width)}  ${what}`), '',
    'examples:', ...COMMANDS.filter(([, tool]) => tool).map(([, , , example]) => `  ${example}`), '',
    'exit codes: 0 ok, 1 findings or failures, 2 usage'].join('\n');
}

function main(argv) {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find(([n]) => n === name);
  if (!command) {
    console.error(`unknown command: ${name}\n${usage()}`);
    return 2;
  }
  const [, tool] = command;
  if (!tool) {
    console.error(`auth0-provision ${name}: not available yet (it is planned: see the README)`);
    return 2;
  }
  const [script, ...prefix] = tool;
  const args = [path.join(__dirname, script), ...prefix, ...rest];
  if (!rest.includes('--help') && !rest.includes('-h')) {
    const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
    return r.status === null ? 1 : r.status;
  }
  // `<command> --help`: the tool's own usage, then an example where the usage has none, so
  // every command shows usage, options and an example.
  const r = spawnSync(process.execPath, args, { stdio: ['inherit', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(r.stdout || '');
  if (r.status === 0 && !/^example/im.test(r.stdout || '')) process.stdout.write(`\nExample: ${command[3]}\n`);
  return r.status === null ? 1 : r.status;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

module.exports = { COMMANDS, main };
