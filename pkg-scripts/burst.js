#!/usr/bin/env node
// A sign-up burst: N Google users sign up at once against a rate-limited local tenant, then
// each logs in once more (as users do, spread over time). Prints requests, 429s, deferred
// logins, the slowest login, and users left without the role.
'use strict';
const path = require('node:path');
const { parseCommandLine } = require('./lib/args.js');
const { TenantEmulator } = require('./emulator/server.js');
const { ActionsRunner } = require('./emulator/runner.js');

const ROOT = path.resolve(__dirname, '..');
const POLICY = require('./policies/premium-for-google.json');

const USAGE = `Usage: node pkg-scripts/burst.js [--users 200] [--rate 2] [--burst 2] [--action FILE]
         [--next-concurrency 2]

  --users N             Google users signing up at once (default 200)
  --rate R, --burst B   the tenant's rate limit: R requests/s, bursts of B (default 2, 2)
  --action FILE         the Action to run (default dist/action.js)
  --next-concurrency N  next logins in flight at once (default 2)
`;

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

/**
 * @returns {Promise<object>} counts of the burst and of the next logins.
 * `login(runner, userId)` can be swapped to drive another Action (the benchmark's peer).
 */
async function runBurst({ users = 200, rate = 2, burst = 2, actionPath = path.join(ROOT, 'dist/action.js'), nextConcurrency = 2, timeoutMs = 8000, quiet = true } = {}) {
  const fixture = JSON.parse(JSON.stringify(require('./emulator/fixture.json')));
  const ids = Array.from({ length: users }, (_, i) => `google-oauth2|burst${String(i).padStart(6, '0')}`);
  fixture.users = ids.map((user_id, i) => ({ user_id, email: `u${i}@gmail.com`, email_verified: true, name: `User ${i}`, connection: 'google-oauth2', logins_count: 0, roles: [] }));
  const emu = new TenantEmulator(fixture, { rateLimit: { burst, perSecond: rate } });
  const origin = await emu.start();
  const m2m = fixture.clients[0];
  const runner = new ActionsRunner({
    emulator: emu,
    actionPath,
    secrets: { AUTH0_DOMAIN: origin, AUTH0_CLIENT_ID: m2m.client_id, AUTH0_CLIENT_SECRET: m2m.client_secret, POLICY: JSON.stringify(POLICY), TIMEOUT_MS: String(timeoutMs) },
  });
  const premium = fixture.roles.find((r) => r.name === 'Premium User').id;
  const holders = () => ids.filter((id) => emu.users.get(id).roles.includes(premium)).length;
  try {
    const t0 = Date.now();
    const first = await Promise.all(ids.map((id) => runner.login(id)));
    const burstWall = Date.now() - t0;
    const afterBurst = {
      wallMs: burstWall,
      requests: emu.requests.length,
      limited: emu.requests.filter((r) => r.limited).length,
      deferred: first.filter((r) => r.outcome && r.outcome.error).length,
      threw: first.filter((r) => r.threw).length,
      denied: first.filter((r) => r.denied).length,
      maxLoginMs: Math.max(...first.map((r) => r.ms)),
      overDeadline: first.filter((r) => r.ms > timeoutMs).length,
      holders: holders(),
      pendingMarked: ids.filter((id) => (emu.users.get(id).app_metadata.provisioning_pending || []).length).length,
    };
    const before = emu.requests.length;
    const t1 = Date.now();
    // Each user's next login, a few at a time as real users return (not all at one instant).
    const next = await pool(ids, nextConcurrency, (id) => runner.login(id));
    const afterNext = {
      wallMs: Date.now() - t1,
      requests: emu.requests.length - before,
      limited: emu.requests.slice(before).filter((r) => r.limited).length,
      stillFailing: next.filter((r) => r.outcome && r.outcome.error).length,
      maxLoginMs: Math.max(...next.map((r) => r.ms)),
      holders: holders(),
      lost: users - holders(),
      pendingLeft: ids.filter((id) => (emu.users.get(id).app_metadata.provisioning_pending || []).length).length,
    };
    const result = { users, rate, burst, timeoutMs, afterBurst, afterNext, tokenRequests: emu.count('POST /oauth/token'), roleLookups: emu.count('GET /api/v2/roles') };
    if (!quiet) print(result);
    return result;
  } finally {
    await emu.stop();
  }
}

function print(r) {
  const b = r.afterBurst;
  const n = r.afterNext;
  console.log(`burst: ${r.users} concurrent Google sign-ups, tenant limit ${r.rate} req/s (burst ${r.burst}), deadline ${r.timeoutMs} ms`);
  console.log(`  sign-ups : ${b.requests} requests, ${b.limited} answered 429, ${b.holders} provisioned, ${b.deferred} deferred (pending marked: ${b.pendingMarked}), slowest login ${b.maxLoginMs.toFixed(0)} ms, over deadline ${b.overDeadline}, threw ${b.threw}, denied ${b.denied}, wall ${b.wallMs} ms`);
  console.log(`  next logins: ${n.requests} requests, ${n.limited} answered 429, still failing ${n.stillFailing}, slowest ${n.maxLoginMs.toFixed(0)} ms, wall ${n.wallMs} ms`);
  console.log(`  result   : ${n.holders}/${r.users} hold the role, ${n.lost} lost, ${n.pendingLeft} still pending; ${r.tokenRequests} token request(s), ${r.roleLookups} role look-up(s)`);
}

if (require.main === module) {
  const { values: args } = parseCommandLine('burst', USAGE, {
    users: { type: 'string' }, rate: { type: 'string' }, burst: { type: 'string' },
    'next-concurrency': { type: 'string' }, action: { type: 'string' },
  });
  runBurst({
    users: Number(args.users ?? 200),
    rate: Number(args.rate ?? 2),
    burst: Number(args.burst ?? 2),
    nextConcurrency: Number(args['next-concurrency'] ?? 2),
    actionPath: path.resolve(ROOT, args.action ?? 'dist/action.js'),
    quiet: false,
  }).catch((e) => {
    console.error(`burst failed: ${e.stack}`);
    process.exit(1);
  });
}

module.exports = { runBurst, pool };
