'use strict';
// pkg-scripts/lib/env.js: the .env file deploy and export read credentials from, under the
// process's environment.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseEnvFile, loadEnv, required } = require('../pkg-scripts/lib/env.js');
const { ConfigError } = require('../pkg-scripts/lib/errors.js');

test('.env parsing: comments, export, quotes, escapes, multi-line values; errors name the line only', () => {
  const env = parseEnvFile([
    '# comment', '', 'export A=1', 'B = two words # trailing', 'C="quoted # not a comment"', "D='single $x \\n'",
    'E="line1\\nline2 \\"q\\""', 'F="multi', 'line"', 'G=', 'H=a=b',
  ].join('\n'));
  assert.deepEqual(env, { A: '1', B: 'two words', C: 'quoted # not a comment', D: 'single $x \\n', E: 'line1\nline2 "q"', F: 'multi\nline', G: '', H: 'a=b' });
  assert.throws(() => parseEnvFile('OK=1\nthis is secret-ish text', '.env'), (e) => e.message === '.env:2: expected KEY=value');
  assert.throws(() => parseEnvFile('X="open', '.env'), /\.env:1: unterminated " quote/);
});

test('the environment wins over the file; an empty variable does not; a named file must exist, the default may not', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'env-test-'));
  try {
    const file = path.join(dir, 'vars');
    fs.writeFileSync(file, 'AUTH0_DOMAIN=file.example.com\nAUTH0_CLIENT_ID=from-file\nAUTH0_CLIENT_SECRET=file-secret\n');
    const env = loadEnv(file, { explicit: true, env: { AUTH0_CLIENT_ID: 'from-env', AUTH0_CLIENT_SECRET: '' } });
    assert.deepEqual(env, { AUTH0_DOMAIN: 'file.example.com', AUTH0_CLIENT_ID: 'from-env', AUTH0_CLIENT_SECRET: 'file-secret' });
    assert.deepEqual(loadEnv(path.join(dir, 'absent'), { env: { A: '1' } }), { A: '1' });
    assert.throws(() => loadEnv(path.join(dir, 'absent'), { explicit: true, env: {} }), (e) => e instanceof ConfigError && /--env-file .*absent: no such file/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a required variable is trimmed; unset or blank names the variable and what it is, never a value', () => {
  assert.equal(required({ AUTH0_DOMAIN: '  t.example.com ' }, 'AUTH0_DOMAIN', 'the tenant'), 't.example.com');
  for (const env of [{}, { AUTH0_CLIENT_SECRET: '   ' }]) {
    assert.throws(() => required(env, 'AUTH0_CLIENT_SECRET', "the deployer application's client secret"),
      (e) => e instanceof ConfigError && e.message === "AUTH0_CLIENT_SECRET is not set (the deployer application's client secret)");
  }
});
