'use strict';
// Once an execution has resolved (success, error, trap, watchdog) nothing it started has any
// effect: its api is revoked, its fetches are aborted, its log lines are dropped.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { tenant, USERS, ROOT, requireBuilt } = require('./helpers.js');

const HOOKED = process.env.HOOKED || path.join(ROOT, 'target/test-hooks/action.js');
const tenants = [];
after(() => Promise.all(tenants.map((t) => t.stop())));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a trap with 5 executions in flight: no request, api call or log line after they resolved', async () => {
  const t = await tenant({ actionPath: requireBuilt(HOOKED) });
  tenants.push(t);
  const { emu, runner } = t;
  // Every execution waits on the shared token request, whose first answer is a 429 with
  // Retry-After: 1 — so the work is still in flight when one execution traps at 300 ms.
  emu.injectFault({ method: 'POST', path: '/oauth/token', status: 429, headers: { 'retry-after': '1' } });
  const users = [USERS.ada, USERS.grace, USERS.barbara, USERS.ada, USERS.grace];
  const runs = users.map((u, i) => runner.login(u, i === 2 ? { secrets: { TEST_PANIC: 'late' } } : {}));
  const results = await Promise.all(runs);
  const requestsAtEnd = emu.requests.length;
  const seen = JSON.stringify(results.map((r) => [r.idClaims, r.accessClaims, r.appMetadata, r.userMetadata, r.mfa, r.denied, r.logs]));
  for (const r of results) {
    assert.equal(r.threw, null);
    assert.match(r.outcome.error, /internal failure/, 'the trap fails every execution on that instance');
    assert.equal(r.logs.length, 1, r.logs.join('\n'));
  }
  assert.equal(requestsAtEnd, 1, 'only the throttled token request was sent before the trap');

  await sleep(2500); // past the Retry-After: the old instance's timers fire now
  assert.deepEqual(emu.requests.slice(requestsAtEnd).map((r) => r.route), [], 'no request after the executions ended');
  const later = JSON.stringify(results.map((r) => [r.idClaims, r.accessClaims, r.appMetadata, r.userMetadata, r.mfa, r.denied, r.logs]));
  assert.equal(later, seen, 'no api call and no log line after the executions ended');
  for (const u of users) assert.deepEqual(emu.users.get(u).roles, [], `${u} got nothing after its execution ended`);

  // The container goes on: a fresh instance provisions the next login.
  const next = await runner.login(USERS.ada);
  assert.equal(next.outcome.error, null);
  assert.deepEqual(next.outcome.assigned, ['Premium User']);
});
