'use strict';
// `policy check --tenant` against the emulator: names what the policy refers to that the
// tenant lacks, and reads only.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { TenantEmulator } = require('../pkg-scripts/emulator/server.js');
const { ROOT } = require('./helpers.js');

const FIXTURE = require('../pkg-scripts/emulator/fixture.json');
const CLI = path.join(ROOT, 'pkg-scripts/policy.js');

// Asynchronous: the emulator answers from this process's event loop.
function checkTenant(policy, env) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'check-tenant-')), 'p.json');
  fs.writeFileSync(file, JSON.stringify(policy));
  return new Promise((resolve) => {
    // cwd: a directory without a .env, so only `env` counts.
    execFile(process.execPath, [CLI, 'check', '--tenant', file],
      { cwd: path.dirname(file), env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, encoding: 'utf8' },
      (e, stdout, stderr) => resolve({ code: e ? e.code : 0, out: stdout, err: stderr }));
  });
}

async function tenant(extraScopes = []) {
  const f = JSON.parse(JSON.stringify(FIXTURE));
  f.clients[0].scopes.push(...extraScopes);
  const emu = new TenantEmulator(f);
  const origin = await emu.start();
  const env = { AUTH0_DOMAIN: origin, PROVISION_CLIENT_ID: f.clients[0].client_id, PROVISION_CLIENT_SECRET: f.clients[0].client_secret };
  return { emu, env };
}

const POLICY = {
  rules: [{
    name: 'staff',
    when: { email_domain: 'example.com' },
    assign_roles: ['Employee', 'employee ', 'Contractor', 'rol_admin00000001', 'rol_missing0001'],
    assign_permissions: [
      { resource_server_identifier: 'https://api.example.com/', permission_name: 'read:reports' },
      { resource_server_identifier: 'https://api.example.com/', permission_name: 'delete:reports' },
      { resource_server_identifier: 'https://nope.example.com/', permission_name: 'read:reports' },
    ],
  }],
};

test('names a missing role (with its near-miss), a missing role id and a missing permission; exit 1; reads only', async () => {
  const { emu, env } = await tenant(['read:resource_servers']);
  try {
    const r = await checkTenant(POLICY, env);
    assert.equal(r.code, 1, r.out + r.err);
    for (const line of [
      'ok: rules[0].assign_roles[0]: role "Employee" is rol_employee000001',
      'error: rules[0].assign_roles[1]: no role is named "employee " (differs by case or whitespace: "Employee")',
      'error: rules[0].assign_roles[2]: no role is named "Contractor"',
      'ok: rules[0].assign_roles[3]: role rol_admin00000001 is "Admin"',
      'error: rules[0].assign_roles[4]: no role has the id rol_missing0001',
      'ok: rules[0].assign_permissions[0]: permission read:reports on https://api.example.com/ exists',
      'error: rules[0].assign_permissions[1]: the API https://api.example.com/ has no permission delete:reports',
      'error: rules[0].assign_permissions[2]: no API has the identifier https://nope.example.com/',
      'tenant check: 5 error(s), 0 warning(s)',
    ]) assert.ok(r.out.split('\n').includes(line), `missing line ${line} in\n${r.out}`);
    assert.ok(emu.requests.every((q) => q.method === 'GET' || q.route === 'POST /oauth/token'), 'only reads');
    assert.ok(!r.out.includes(env.PROVISION_CLIENT_SECRET) && !r.err.includes(env.PROVISION_CLIENT_SECRET));
  } finally {
    await emu.stop();
  }
});

test('a good policy passes; a read the client may not do is "not checked"; a missing scope is an error', async () => {
  const { emu, env } = await tenant();
  try {
    const good = await checkTenant({ rules: [{ name: 'g', when: { provider: 'google-oauth2' }, assign_roles: ['Premium User'] }] }, env);
    assert.equal(good.code, 0, good.out + good.err);
    assert.match(good.out, /tenant check: 0 error\(s\), 0 warning\(s\)\n$/);
    const org = await checkTenant({ rules: [{ name: 'o', when: { organization: 'acme' }, assign_permissions: [POLICY.rules[0].assign_permissions[0]] }] }, env);
    assert.equal(org.code, 0, org.out);
    assert.match(org.out, /warning: rules\[0\]\.when\.organization: organization "acme": not checked \(the client lacks read:organizations\)/);
    assert.match(org.out, /warning: permissions: not checked \(the client lacks read:resource_servers\)/);
  } finally {
    await emu.stop();
  }
  const narrow = await tenant();
  narrow.emu.clients[0].scopes = ['read:roles'];
  try {
    const r = await checkTenant({ rules: [{ name: 'g', when: { provider: 'google-oauth2' }, assign_roles: ['Premium User'] }] }, narrow.env);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /error: rules\[0\] \(g\)\.assign_roles: the Action's client lacks create:role_members or update:users/);
  } finally {
    await narrow.emu.stop();
  }
});

test('the deployer\'s AUTH0_CLIENT_ID is never used for the check: it says to name the Action\'s client', async () => {
  const { emu, env } = await tenant();
  try {
    const deployerOnly = { AUTH0_DOMAIN: env.AUTH0_DOMAIN, AUTH0_CLIENT_ID: env.PROVISION_CLIENT_ID, AUTH0_CLIENT_SECRET: env.PROVISION_CLIENT_SECRET };
    const r = await checkTenant({ rules: [{ name: 'g', when: { provider: 'google-oauth2' }, assign_roles: ['Premium User'] }] }, deployerOnly);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.err, /PROVISION_CLIENT_ID is not set: the check runs as the Action's own client .*not the deployer's AUTH0_CLIENT_ID; against `npm run emulator`/);
    assert.equal(emu.requests.length, 0);
    assert.ok(!r.err.includes(env.PROVISION_CLIENT_SECRET));
  } finally {
    await emu.stop();
  }
});

test('the offline check runs first: an invalid policy never reaches the tenant', async () => {
  const { emu, env } = await tenant();
  try {
    const r = await checkTenant({ rules: {} }, env);
    assert.equal(r.code, 1);
    assert.match(r.err, /rules: expected a list/);
    assert.equal(emu.requests.length, 0);
  } finally {
    await emu.stop();
  }
});

test('npm run deploy runs the tenant check before any change, and --dry-run still sends nothing', async () => {
  const { emu, env } = await tenant();
  const policy = JSON.stringify({ rules: [{ name: 'g', when: { provider: 'google-oauth2' }, assign_roles: ['Premium Usr'] }] });
  const deploy = (...args) => new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'pkg-scripts/deploy.js'), '--no-build', ...args],
      { cwd: os.tmpdir(), env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, AUTH0_CLIENT_ID: env.PROVISION_CLIENT_ID, AUTH0_CLIENT_SECRET: env.PROVISION_CLIENT_SECRET, POLICY: policy }, encoding: 'utf8' },
      (e, stdout, stderr) => resolve({ code: e ? e.code : 0, out: stdout, err: stderr }));
  });
  try {
    const r = await deploy();
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /error: rules\[0\]\.assign_roles\[0\]: no role is named "Premium Usr"/);
    assert.match(r.err, /deploy failed: the policy names what the tenant lacks .*Nothing was changed/);
    assert.ok(emu.requests.length > 0 && emu.requests.every((q) => q.method === 'GET' || q.route === 'POST /oauth/token'));
    emu.requests.length = 0;
    const dry = await deploy('--dry-run');
    assert.equal(dry.code, 0, dry.out + dry.err);
    assert.equal(emu.requests.length, 0);
  } finally {
    await emu.stop();
  }
});

test('organization effects: each organization and organization role is looked up, and their scopes are required', async () => {
  const { emu, env } = await tenant(['read:organizations', 'create:organization_members']);
  try {
    const policy = {
      rules: [{
        name: 'b2b', when: { trigger: 'post-login', email_domain: 'acme.com' }, join_organization: ['acme', 'no-such-org'],
        organization_roles: [{ organization: 'org_globex0000000001', roles: ['Admin', 'Admn'] }, { organization: '$current', roles: ['Admin'] }],
      }],
    };
    const r = await checkTenant(policy, env);
    assert.equal(r.code, 1, r.out + r.err);
    for (const line of [
      'ok: rules[0].join_organization[0]: organization "acme" exists',
      'error: rules[0].join_organization[1]: no organization is named "no-such-org"',
      'ok: rules[0].organization_roles[0].organization: organization "org_globex0000000001" exists',
      'ok: rules[0].organization_roles[0].roles[0]: role "Admin" is rol_admin00000001',
      'error: rules[0].organization_roles[0].roles[1]: no role is named "Admn"',
    ]) assert.ok(r.out.split('\n').includes(line), `missing line ${line} in\n${r.out}${r.err}`);
    assert.match(r.out, /error: rules\[0\] \(b2b\)\.organization_roles: the Action's client lacks create:organization_member_roles/);
    assert.doesNotMatch(r.out, /\$current"/, '$current is not looked up');
  } finally {
    await emu.stop();
  }
});
