'use strict';
// npm run demo's reconcile chapter: a dry run that writes nothing, an --apply that writes
// its plan, a re-run that writes nothing; no credential in the output.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, CORE } = require('./reconcile-helpers.js');

test('the demo\'s reconcile chapter: plan, apply, a re-run that writes nothing', (t) => {
  if (!require('node:fs').existsSync(path.join(ROOT, 'dist/action.js'))) return t.skip('dist/action.js is not built');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'pkg-scripts/demo.js')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DEPLOY_POLICY_CHECKER: CORE }, timeout: 120000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const chapter = r.stdout.slice(r.stdout.indexOf('## 7. reconcile'));
  const steps = chapter.split('\n  $ ').slice(1);
  assert.equal(steps.length, 3, chapter);
  const writes = steps.map((s) => Number(/the tenant saw (\d+) write request/.exec(s)[1]));
  const planned = Number(/requests --apply will send: (\d+) write/.exec(steps[0])[1]);
  assert.ok(planned > 0, 'the seeded tenant has something to do');
  assert.deepEqual(writes, [0, planned, 0], chapter);
  assert.match(steps[0], /users scanned: 200; with changes: [1-9]/);
  assert.match(steps[2], /none: the tenant already matches the policy/);
  assert.doesNotMatch(r.stdout, /emu\.[\w-]{20,}/, 'no access token in the output');
  assert.doesNotMatch(r.stdout, /client_secret":"(?!\*\*\*)/, 'no client secret in the output');
});
