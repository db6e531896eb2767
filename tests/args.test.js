'use strict';
// pkg-scripts/lib/args.js (node:util parseArgs, the tokens checked) and every tool's command
// line: an unknown option or a missing value is a usage error (exit 2, the usage printed)
// before the tool does anything; --help prints the usage.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseArgs } = require('../pkg-scripts/lib/args.js');
const { UsageError } = require('../pkg-scripts/lib/errors.js');

const ROOT = path.resolve(__dirname, '..');
const OPTIONS = { 'dry-run': { type: 'boolean' }, name: { type: 'string' }, trigger: { type: 'string', multiple: true } };

const usageError = (argv, message, opts) => assert.throws(() => parseArgs(argv, OPTIONS, opts), (e) => e instanceof UsageError && e.message === message);

test('flags, values (separate or after =), repeatable options, positionals when allowed', () => {
  const r = parseArgs(['--dry-run', '--name', 'prov', '--trigger', 'post-login', '--trigger=post-user-registration', 'OUT'], OPTIONS, { positionals: true });
  assert.deepEqual({ ...r.values }, { 'dry-run': true, name: 'prov', trigger: ['post-login', 'post-user-registration'] });
  assert.deepEqual(r.positionals, ['OUT']);
  assert.deepEqual({ ...parseArgs([], OPTIONS).values }, {}, 'nothing given: nothing set (the tools apply their defaults)');
  assert.equal(parseArgs(['--name', 'a', '--name', 'b'], OPTIONS).values.name, 'b', 'the last one wins');
  assert.equal(parseArgs(['--name=--odd'], OPTIONS).values.name, '--odd', 'after = it is a value');
  assert.equal(parseArgs(['--name', '-5'], OPTIONS).values.name, '-5', 'a single dash starts a value, as before');
  assert.deepEqual(parseArgs(['--', '--name'], OPTIONS, { positionals: true }).positionals, ['--name'], '-- ends the options');
});

test('unknown options, missing or unwanted values and unexpected arguments are usage errors', () => {
  usageError(['--nmae', 'x'], 'unknown option --nmae');
  usageError(['-n'], 'unknown option -n');
  usageError(['--name'], '--name needs a value');
  usageError(['--name', '--dry-run'], '--name needs a value');
  usageError(['--trigger'], '--trigger needs a value');
  usageError(['--dry-run=yes'], '--dry-run takes no value');
  usageError(['stray'], 'unexpected argument stray');
  usageError(['--constructor'], 'unknown option --constructor');
});

// Each tool with an option it does not know and one whose value is missing; none may start
// its work (a build, an emulator, a request) first, so each answers at once.
const TOOLS = [
  ['build', 'pkg-scripts/build.js', '--out'],
  ['burst', 'pkg-scripts/burst.js', '--users'],
  ['demo', 'pkg-scripts/demo.js', '--action'],
  ['bench', 'pkg-scripts/bench.js', '--out'],
  ['deploy', 'pkg-scripts/deploy.js', '--name'],
  ['export', 'pkg-scripts/export.js', '--format'],
];

const run = (file, args) => spawnSync(process.execPath, [path.join(ROOT, file), ...args],
  { cwd: ROOT, env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 30000 });

for (const [tool, file, valued] of TOOLS) {
  test(`${tool}: an unknown option or a missing value exits 2 with the usage; --help prints it`, () => {
    const unknown = run(file, ['--no-such-option']);
    assert.equal(unknown.status, 2, unknown.stderr);
    assert.match(unknown.stderr, new RegExp(`^${tool}: unknown option --no-such-option\\n\\nUsage: `));
    assert.equal(unknown.stdout, '');
    const missing = run(file, [valued]);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, new RegExp(`^${tool}: ${valued} needs a value\\n\\nUsage: `));
    const help = run(file, ['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: /);
    assert.ok(help.stdout.includes(valued), `the usage names ${valued}`);
  });
}
