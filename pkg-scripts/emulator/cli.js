#!/usr/bin/env node
'use strict';
// The local tenant on its own, for the bulk tools and by hand: `npm run emulator -- --users N`
// starts it on 127.0.0.1 with N generated users (seed.js) and prints exactly three lines on
// stdout, the variables the tools read (AUTH0_DOMAIN as http://127.0.0.1:PORT: a bare host
// would mean https to lib/check-secrets.js's rule, and http is allowed on loopback only),
// then serves until SIGINT/SIGTERM. Everything else goes to stderr.
const { parseCommandLine } = require('../lib/args.js');
const { UsageError, USAGE_EXIT } = require('../lib/errors.js');
const { TenantEmulator } = require('./server.js');
const { seedFixture, seedStats } = require('./seed.js');
const { PROFILES } = require('./ratelimit.js');

const USAGE = `Usage: npm run emulator -- [--users N] [--port P] [--rate PROFILE] [--speed X] [--seed S]
         [--export-job-ms MS] [--export-link-ms MS] [--tenant NAME] [--stats]

  --users N           generated users (default 1000; deterministic for a given N and seed)
  --port P            the port on 127.0.0.1 (default: a free one)
  --rate PROFILE      rate buckets: ${Object.keys(PROFILES).join(', ')} (default none)
  --speed X           refill rates times X, bursts unchanged (default 1)
  --seed S            the generator's seed (default 1)
  --export-job-ms MS  how long an export job takes (default 1500)
  --export-link-ms MS how long an export link works (default 60000)
  --tenant NAME       the tenant's name, in export file names (default emulator)
  --stats             print the seeded tenant's counts (providers, plans, roles) to stderr

Prints AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET lines on stdout, then serves
until interrupted.
`;

/** The integer in `v` within [min, max], or a UsageError naming the option. */
function integer(v, name, min, max, dflt) {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(v)}`);
  return Number(v);
}

function options(values) {
  const rate = values.rate === undefined ? 'none' : values.rate;
  if (!Object.hasOwn(PROFILES, rate)) throw new UsageError(`--rate must be one of ${Object.keys(PROFILES).join(', ')}, not ${JSON.stringify(rate)}`);
  const speed = values.speed === undefined ? 1 : Number(values.speed);
  if (!/^\d+(\.\d+)?$/.test(values.speed ?? '1') || !(speed > 0) || speed > 1e6) throw new UsageError(`--speed must be a positive number, not ${JSON.stringify(values.speed)}`);
  if (values.tenant !== undefined && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(values.tenant)) throw new UsageError('--tenant must be lower-case letters, digits and dashes');
  return {
    users: integer(values.users, '--users', 0, 50_000_000, 1000),
    port: integer(values.port, '--port', 0, 65535, 0),
    seed: values.seed === undefined ? 1 : values.seed,
    rate,
    speed,
    exportJobMs: integer(values['export-job-ms'], '--export-job-ms', 0, 86_400_000, 1500),
    exportLinkMs: integer(values['export-link-ms'], '--export-link-ms', 1, 86_400_000, 60000),
    tenant: values.tenant || 'emulator',
    stats: !!values.stats,
  };
}

async function main() {
  const spec = {};
  for (const k of ['users', 'port', 'rate', 'speed', 'seed', 'export-job-ms', 'export-link-ms', 'tenant']) spec[k] = { type: 'string' };
  spec.stats = { type: 'boolean' };
  const { values } = parseCommandLine('emulator', USAGE, spec);
  let o;
  try {
    o = options(values);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`emulator: ${e.message}\n\n${USAGE}`);
    process.exit(USAGE_EXIT);
  }
  const seed = /^\d+$/.test(String(o.seed)) ? Number(o.seed) : o.seed;
  const fixture = seedFixture();
  const t0 = Date.now();
  const emu = new TenantEmulator(fixture, {
    seed: { users: o.users, seed }, rateProfile: o.rate === 'none' ? null : o.rate, rateSpeed: o.speed,
    exportJobMs: o.exportJobMs, exportLinkMs: o.exportLinkMs, tenantName: o.tenant,
    requestLog: 1000, // a long session must not keep every reply
  });
  let origin;
  try {
    origin = await emu.start(o.port);
  } catch (e) {
    process.stderr.write(`emulator: cannot listen on 127.0.0.1:${o.port}: ${e.code || e.message}\n`);
    process.exit(1);
  }
  const client = fixture.clients[0];
  process.stdout.write(`AUTH0_DOMAIN=${origin}\nAUTH0_CLIENT_ID=${client.client_id}\nAUTH0_CLIENT_SECRET=${client.client_secret}\n`);
  const mb = (process.memoryUsage().rss / 1048576).toFixed(0);
  process.stderr.write(`emulator: ${o.users} users (seed ${o.seed}), rate ${o.rate}${o.speed !== 1 ? ` x${o.speed}` : ''}, ` +
    `listening on ${origin} (ready in ${Date.now() - t0} ms, RSS ${mb} MB); SIGINT/SIGTERM stops it\n`);
  if (o.stats) process.stderr.write(`emulator: seeded tenant ${JSON.stringify(seedStats(emu.users.gen))}\n`);
  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    const stats = emu.routeStats();
    const total = Object.values(stats).reduce((a, s) => ({ requests: a.requests + s.requests, limited: a.limited + s.limited }), { requests: 0, limited: 0 });
    process.stderr.write(`emulator: ${signal}: stopping after ${total.requests} request(s), ${total.limited} answered 429\n`);
    await emu.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e) => {
  process.stderr.write(`emulator: ${e.stack || e.message}\n`);
  process.exit(1);
});
