#!/usr/bin/env node
'use strict';
// `npm run policy -- <subcommand>`: `test` runs here, in JS, because it needs the emulator and
// the built Action; every other subcommand is the Rust core's own (src/bin/policy.rs), passed
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
emulator; TAP output, then "N passed, M failed". Exit 0 when all pass, 1 on any failure.

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
  const { failed } = await runTestFiles(positionals, { actionPath });
  return failed ? 1 : 0;
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
    if (sub === 'check' && rest.includes('--tenant')) return await require('./lib/tenant-check.js').main(rest);
    return passThrough(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(usageMessage(`policy ${sub}`, e.message, sub === 'test' ? TEST_USAGE : ''));
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
