'use strict';
// The one command-line entry (package.json bin `auth0-provision`, pkg-scripts/cli.js): every
// command listed, the tools' own exits passed through, usage errors exit 2.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { COMMANDS } = require('../pkg-scripts/cli.js');

const ROOT = path.resolve(__dirname, '..');
const cli = (...args) => spawnSync(process.execPath, [path.join(ROOT, 'pkg-scripts/cli.js'), ...args], { cwd: ROOT, encoding: 'utf8' });

test('--help lists every command of the issue, with an example', () => {
  const r = cli('--help');
  assert.equal(r.status, 0);
  for (const name of ['build', 'demo', 'emulator', 'check', 'explain', 'test', 'deploy', 'export', 'reconcile']) {
    assert.match(r.stdout, new RegExp(`^  ${name} +\\S`, 'm'), name);
  }
  assert.equal(COMMANDS.length, 9);
  assert.match(r.stdout, /exit codes: 0 ok, 1 findings or failures, 2 usage/);
});

test('a command runs its tool with the same options and exit code', () => {
  const ok = cli('check', path.join(ROOT, 'pkg-scripts/policies/premium-for-google.json'));
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /valid, 1 rule\(s\).*policy=[0-9a-f]{8}/);
  const help = cli('deploy', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: npm run deploy/);
  const bad = cli('export', '--no-such-option');
  assert.equal(bad.status, 2, bad.stderr);
});

test('usage errors exit 2: no command, an unknown one, one not available yet', () => {
  assert.equal(cli().status, 2);
  const unknown = cli('frobnicate');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command: frobnicate\nusage: auth0-provision/);
  for (const [name] of COMMANDS.filter(([, tool]) => !tool)) {
    const later = cli(name);
    assert.equal(later.status, 2);
    assert.match(later.stderr, /not available yet/);
  }
  const usage = cli('reconcile', '--no-such-option');
  assert.equal(usage.status, 2, usage.stderr);
  assert.match(usage.stderr, /reconcile: unknown option --no-such-option\n\nUsage: npm run reconcile/);
});
