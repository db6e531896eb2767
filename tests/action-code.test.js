'use strict';
// pkg-scripts/lib/action-code.js: the Action code deploy and export ship.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { isStale, loadCode } = require('../pkg-scripts/lib/action-code.js');
const { ConfigError } = require('../pkg-scripts/lib/errors.js');

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'action-code-test-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

test('dist/action.js is stale when missing or older than src/, js-shim/, build.js, Cargo.toml/lock', () => {
  const f = path.join(TMP, 'stale-check.js');
  assert.equal(isStale(f), true, 'missing');
  fs.writeFileSync(f, '');
  fs.utimesSync(f, new Date(0), new Date(0));
  assert.equal(isStale(f), true, 'older than the sources');
  const future = new Date(Date.now() + 365 * 86400e3);
  fs.utimesSync(f, future, future);
  assert.equal(isStale(f), false, 'newer than every source');
});

test('a file given is read as it is, and refused without the handler of a trigger asked for', () => {
  const f = path.join(TMP, 'login-only.js');
  fs.writeFileSync(f, 'exports.onExecutePostLogin = async () => {};\n');
  const r = loadCode({ file: f, triggers: ['post-login'], log: () => assert.fail('nothing to say') });
  assert.equal(r.file, f);
  assert.equal(r.size, fs.statSync(f).size);
  assert.throws(() => loadCode({ file: f, triggers: ['post-user-registration'] }),
    (e) => e instanceof ConfigError && e.message === 'login-only.js does not export onExecutePostUserRegistration (needed for post-user-registration)');
  assert.throws(() => loadCode({ file: path.join(TMP, 'absent.js') }), (e) => e instanceof ConfigError && /cannot read the Action code .*absent\.js \(ENOENT\)/.test(e.message));
});
