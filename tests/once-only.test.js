'use strict';
// Once-only effects (tickets, permissions) for one user run at most once at a time in a
// container: concurrent logins share the first one's request and reuse its result.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { tenant, USERS } = require('./helpers.js');

const tenants = [];
after(() => Promise.all(tenants.map((t) => t.stop())));

const POLICY = {
  on_error: 'allow',
  rules: [
    {
      name: 'welcome',
      when: { provider: ['google-oauth2'] },
      assign_permissions: [{ resource_server_identifier: 'https://api.example.com/', permission_name: 'read:reports' }],
      password_reset_ticket: { store: 'log', result_url: 'https://app.example.com/welcome' },
    },
    {
      name: 'invite',
      when: { provider: ['google-oauth2'] },
      password_reset_ticket: { store: 'app_metadata.invite_url', result_url: 'https://app.example.com/invite' },
    },
  ],
};

test('50 concurrent logins of one user: one ticket of each kind, one permission grant, one logged URL', async () => {
  const t = await tenant({ policy: POLICY });
  tenants.push(t);
  const { emu, runner } = t;
  const results = await Promise.all(Array.from({ length: 50 }, () => runner.login(USERS.ada)));
  for (const r of results) assert.equal(r.outcome.error, null, r.logs.join('\n'));
  assert.equal(emu.count('POST /api/v2/tickets/password-change'), 2, 'one ticket per ticket effect');
  assert.equal(emu.count('POST /api/v2/users/{id}/permissions'), 1);
  const urlLines = results.flatMap((r) => r.logs).filter((l) => l.startsWith('provision ticket url='));
  assert.equal(urlLines.length, 1, urlLines.join('\n'));
  // Every execution that stores the invite stores the same one.
  const stored = new Set(results.map((r) => r.appMetadata.invite_url));
  assert.equal(stored.size, 1);
  assert.match([...stored][0], /ticket=/);

  // The next login (done marker saved) sends nothing.
  const again = await runner.login(USERS.ada);
  assert.deepEqual(again.requests.map((r) => r.route), []);
});
