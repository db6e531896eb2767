'use strict';
// A panic inside the wasm (a trap) must end that execution cleanly with on_error, and must
// not poison the warm container: the next execution in the same process works.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { tenant, routes, USERS, SEED_POLICY, ROOT, ACTION, requireBuilt, embeddedWasm } = require('./helpers.js');

const HOOKED = path.join(ROOT, 'target/test-hooks/action.js');
const tenants = [];
after(() => Promise.all(tenants.map((t) => t.stop())));

async function start(opts = {}) {
  const t = await tenant({ actionPath: requireBuilt(HOOKED), ...opts });
  tenants.push(t);
  return t;
}

test('a panic ends the execution with on_error=allow and the next one succeeds', async () => {
  const { emu, runner } = await start();
  const bad = await runner.login(USERS.ada, { secrets: { TEST_PANIC: 'start' } });
  assert.equal(bad.threw, null, 'nothing escapes the Action');
  assert.equal(bad.denied, false);
  assert.match(bad.outcome.error, /internal failure: RuntimeError: unreachable/);
  assert.equal(bad.logs.length, 1);
  assert.match(bad.logs[0], /^provision error: internal failure on_error=allow: RuntimeError: unreachable/);

  const good = await runner.login(USERS.grace); // same process, same module scope
  assert.equal(good.outcome.error, null);
  assert.deepEqual(routes(good), ['POST /oauth/token', 'GET /api/v2/roles', 'POST /api/v2/users/{id}/roles']);
  assert.deepEqual(emu.users.get(USERS.grace).roles, ['rol_premium0000001']);

  const healed = await runner.login(USERS.ada); // and the panicked user is provisioned next time
  assert.deepEqual(routes(healed), ['POST /api/v2/users/{id}/roles']);
});

test('a panic under on_error=deny denies that login only', async () => {
  const { runner } = await start({ policy: { ...SEED_POLICY, on_error: 'deny' } });
  const bad = await runner.login(USERS.ada, { secrets: { TEST_PANIC: 'start' } });
  assert.equal(bad.denied, true);
  // The shim's reason is the Rust side's (build.js takes it from src/bindings/execute.rs).
  assert.equal(bad.denyReason, 'Access could not be provisioned. Please try again later.');
  const good = await runner.login(USERS.alan);
  assert.equal(good.denied, false);
  assert.equal(good.outcome.error, null);
});

test('repeated panics do not leak: 50 traps then a clean execution', async () => {
  const { runner } = await start();
  for (let i = 0; i < 50; i++) {
    const r = await runner.login(USERS.dennis, { secrets: { TEST_PANIC: 'start' } });
    assert.match(r.outcome.error, /internal failure/);
  }
  const ok = await runner.login(USERS.alan);
  assert.equal(ok.outcome.error, null);
});

test('the shipped dist/action.js has no test hook compiled in', () => {
  const wasm = embeddedWasm(requireBuilt(ACTION));
  assert.ok(WebAssembly.validate(wasm));
  assert.ok(!wasm.includes('TEST_PANIC'), 'TEST_PANIC must only exist in the test-hooks build');
  assert.ok(embeddedWasm(requireBuilt(HOOKED)).includes('TEST_PANIC'));
});
