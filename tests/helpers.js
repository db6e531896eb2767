'use strict';
// Shared set-up for the end-to-end tests: a fresh emulator + runner around dist/action.js.
const fs = require('node:fs');
const path = require('node:path');
const { TenantEmulator } = require('../pkg-scripts/emulator/server.js');
const { ActionsRunner } = require('../pkg-scripts/emulator/runner.js');

const ROOT = path.resolve(__dirname, '..');
// ACTION_UNDER_TEST: run the suites against another build (e.g. the last release, to show a test fails there).
const ACTION = process.env.ACTION_UNDER_TEST ? path.resolve(process.env.ACTION_UNDER_TEST) : path.join(ROOT, 'dist/action.js');
const FIXTURE = require('../pkg-scripts/emulator/fixture.json');

const SEED_POLICY = {
  claims_namespace: 'https://example.com/',
  on_error: 'allow',
  rules: [{ name: 'premium-for-google', when: { provider: ['google-oauth2'] }, assign_roles: ['Premium User'] }],
};

const USERS = {
  ada: 'google-oauth2|101234567890123456789',
  grace: 'google-oauth2|109876543210987654321',
  alan: 'google-oauth2|100000000000000000042', // already holds Premium User
  dennis: 'auth0|6543a1b2c3d4e5f607182930', // database connection
  barbara: 'google-oauth2|111111111111111111111',
};

function requireBuilt(file = ACTION) {
  if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` first`);
  return file;
}

/**
 * Starts an emulator and a runner. opts: fixture (default: the demo fixture), policy
 * (object or string; default: the seed policy), secrets (extra/overriding secrets),
 * emulator (TenantEmulator options), actionPath.
 */
async function tenant(opts = {}) {
  const fixture = opts.fixture || FIXTURE;
  // Before the emulator starts: a missing build must not leave a server open (the run hangs).
  const actionPath = requireBuilt(opts.actionPath);
  const emu = new TenantEmulator(fixture, opts.emulator || {});
  const origin = await emu.start();
  const client = fixture.clients[0];
  const policy = opts.policy === undefined ? SEED_POLICY : opts.policy;
  const secrets = {
    AUTH0_DOMAIN: origin,
    AUTH0_CLIENT_ID: client.client_id,
    AUTH0_CLIENT_SECRET: client.client_secret,
    ...(policy === null ? {} : { POLICY: typeof policy === 'string' ? policy : JSON.stringify(policy) }),
    ...(opts.secrets || {}),
  };
  const runner = new ActionsRunner({ emulator: emu, actionPath, secrets });
  return { emu, runner, secrets, origin, client, stop: () => emu.stop() };
}

/** Every request route of an execution, e.g. ["POST /oauth/token", ...]. */
function routes(result) {
  return result.requests.map((r) => r.route);
}

/** The wasm embedded in a built Action file (brotli, as pkg-scripts/lib/embed.js text). */
function embeddedWasm(file) {
  const zlib = require('node:zlib');
  const { decode } = require('../pkg-scripts/lib/embed.js');
  const code = fs.readFileSync(file, 'utf8');
  const m = code.match(/"([^"\\\n]{10000,})"/);
  if (!m) throw new Error(`no embedded wasm found in ${file}`);
  const whole = decode(m[1], Infinity);
  // The build zero-pads to 47 bytes (the shim knows the real length); try the 47 candidates.
  for (let pad = 0; pad < 47; pad++) {
    try {
      return zlib.brotliDecompressSync(whole.subarray(0, whole.length - pad));
    } catch (_) { /* try a shorter length */ }
  }
  throw new Error(`embedded wasm in ${file} does not decompress`);
}

module.exports = { embeddedWasm, tenant, routes, requireBuilt, ACTION, ROOT, FIXTURE, SEED_POLICY, USERS };
