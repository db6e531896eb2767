'use strict';
// The one command-line entry (package.json bin `auth0-provision`, pkg-scripts/cli.js): every
// command listed, the tools' own exits passed through, usage errors exit 2; and the real
// `npx auth0-provision` of a fresh clone (bin links on, node22 / node18's `node` bin removed).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { COMMANDS } = require('../pkg-scripts/cli.js');
const { unlinkNodeBin } = require('../pkg-scripts/unlink-node-bin.js');

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

test('every command\'s --help shows its usage, its options and an example, and exits 0', () => {
  for (const [name] of COMMANDS) {
    const r = cli(name, '--help');
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout, /^usage: /im, name);
    assert.match(r.stdout, /^ {2}--[a-z]/m, `${name}: options`);
    assert.match(r.stdout, /^examples?:/im, `${name}: an example`);
  }
});

test('check and explain go through the same option parser: unknown options and missing values exit 2', () => {
  const policy = path.join(ROOT, 'pkg-scripts/policies/premium-for-google.json');
  for (const [args, message, usage] of [
    [['check', '--bogus', policy], 'policy check: unknown option --bogus', 'Usage: policy check POLICY.json'],
    [['check'], 'policy check: give exactly one policy file', 'Usage: policy check POLICY.json'],
    [['explain', policy, 'event.json', '--trigger'], 'policy explain: --trigger needs a value', 'Usage: policy explain POLICY.json EVENT.json'],
    [['explain', policy, 'event.json', '--trigger=sign-up'], 'policy explain: --trigger takes post-login or post-user-registration, not "sign-up"', 'Usage: policy explain'],
    [['explain', policy, 'event.json', '--bogus'], 'policy explain: unknown option --bogus', 'Usage: policy explain'],
  ]) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.ok(r.stderr.startsWith(`${message}\n\n${usage}`), `${args.join(' ')}: ${r.stderr}`);
  }
});

test('`npx auth0-provision --help` runs our own bin, offline, on the Node of the PATH', () => {
  // A fresh npm cache and a registry that refuses connections: npx must find the project's
  // own bin (it links the package into its cache, which needs bin links on), not fetch one.
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'npx-cache-'));
  try {
    const env = { ...process.env, npm_config_cache: cache, npm_config_offline: 'true', npm_config_registry: 'http://127.0.0.1:9/', npm_config_update_notifier: 'false' };
    const r = spawnSync('npx', ['auth0-provision', '--help'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120000 });
    assert.equal(r.error, undefined, 'npx could not run');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /not found/);
    assert.match(r.stdout, /^usage: auth0-provision <command>/);
    for (const [name] of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${name} +\\S`, 'm'), name);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('npm ci leaves no node_modules/.bin/node: node22 / node18 never shadow the machine\'s node', () => {
  const bin = path.join(ROOT, 'node_modules/.bin');
  assert.ok(fs.existsSync(path.join(bin, 'eslint')), 'bin links are on (npm ci has run)');
  assert.equal(fs.existsSync(path.join(bin, 'node')), false, 'node_modules/.bin/node is there: the postinstall did not run');
});

test('the postinstall removes only a node link into node22 / node18', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'unlink-node-'));
  try {
    const bin = path.join(root, 'node_modules/.bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.symlinkSync('../node22/bin/node', path.join(bin, 'node'));
    assert.equal(unlinkNodeBin(root), 'node22');
    assert.equal(fs.existsSync(path.join(bin, 'node')), false);
    assert.equal(unlinkNodeBin(root), null, 'nothing left to remove');
    fs.symlinkSync('../some-other-node/bin/node', path.join(bin, 'node'));
    assert.equal(unlinkNodeBin(root), null);
    assert.equal(fs.readlinkSync(path.join(bin, 'node')), '../some-other-node/bin/node', 'not ours to remove');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
