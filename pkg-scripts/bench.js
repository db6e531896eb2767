#!/usr/bin/env node
// The benchmark: dist/action.js against its peer, a JavaScript post-login Action doing the same job
// with the `auth0` npm SDK (pkg-scripts/bench/peer-action.js), both on the local tenant emulator.
// Prints a table (each figure with the ratio ours/peer) and writes results.json and bench.svg.
// Then reconcile at 10k and 100k users against the emulator's rate buckets (bench/reconcile.js).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const { parseCommandLine } = require('./lib/args.js');
const { knownSecrets: listedSecrets, recordedOutputs } = require('./lib/secret-scan.js');

const USAGE = `Usage: node pkg-scripts/bench.js [--quick] [--burst-users N] [--rate R] [--cold N] [--warm N]
         [--out DIR] [--skip-burst] [--replot] [--skip-reconcile | --reconcile-only]
         [--reconcile-users N,N] [--reconcile-1m] [--reconcile-speed X]

  --quick        5 cold processes, 1,000 warm iterations, a 20-user burst; writes to a temp dir
                 unless --out is given (so the committed results are not overwritten)
  --burst-users  users of the burst (default 200; 20 with --quick); --rate: tenant req/s (2)
  --cold N       cold processes per Action and scenario (default 30); --warm N: warm iterations (10,000)
  --out DIR      where results.json and bench.svg go (default pkg-scripts/bench)
  --skip-burst   leave the burst out
  --replot       only redraw bench.svg and the table (results.json's table/markdown) from the
                 measurements in --out's results.json
  --skip-reconcile     leave the reconcile section out; --reconcile-only: only that section
                       (printed, and written to --out's reconcile.json)
  --reconcile-users    tenant sizes (default 10000,100000; 2000 with --quick); --reconcile-1m adds
                       1,000,000 (slow: about 15 min more)
  --reconcile-speed X  the emulator's Essentials refill rates ×X (default 10)
  --before FILE  an earlier build of dist/action.js measured in the same run (size, cold start,
                 warm latency: "before" rows next to ours)
`;
// Parsed first: a usage error leaves nothing behind (no scan directory yet).
const { values: ARGS } = parseCommandLine('bench', USAGE, {
  quick: { type: 'boolean' }, 'skip-burst': { type: 'boolean' }, replot: { type: 'boolean' },
  'burst-users': { type: 'string' }, rate: { type: 'string' }, cold: { type: 'string' }, warm: { type: 'string' }, out: { type: 'string' },
  'skip-reconcile': { type: 'boolean' }, 'reconcile-only': { type: 'boolean' }, 'reconcile-1m': { type: 'boolean' },
  'reconcile-users': { type: 'string' }, 'reconcile-speed': { type: 'string' }, before: { type: 'string' },
});

// Every credential the emulators know or issue is listed here (server.js noteSecret) so that the
// output can be checked for them before it is printed or written. Set before the emulator loads.
const SCAN_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-secrets-'));
process.env.SECRET_SCAN_DIR = SCAN_DIR;

const ROOT = path.resolve(__dirname, '..');
const QUICK = !!ARGS.quick;
const CONF = {
  quick: QUICK,
  coldProcesses: Number(ARGS.cold ?? (QUICK ? 5 : 30)),
  warmIterations: Number(ARGS.warm ?? (QUICK ? 1000 : 10000)),
  warmSignups: QUICK ? 30 : 200,
  burstUsers: Number(ARGS['burst-users'] ?? (QUICK ? 20 : 200)),
  rate: Number(ARGS.rate ?? 2),
  burstSize: 2,
  deadlineMs: 8000,
  skipBurst: !!ARGS['skip-burst'],
  skipReconcile: !!ARGS['skip-reconcile'],
  reconcileOnly: !!ARGS['reconcile-only'],
  reconcileUsers: [...(ARGS['reconcile-users'] ?? (QUICK ? '2000' : '10000,100000')).split(',').map(Number), ...(ARGS['reconcile-1m'] ? [1_000_000] : [])],
  reconcileSpeed: Number(ARGS['reconcile-speed'] ?? 10),
  before: ARGS.before ? path.resolve(ARGS.before) : null,
};
for (const n of CONF.reconcileUsers) {
  if (!Number.isInteger(n) || n < 1 || n > 10_000_000) {
    process.stderr.write('bench: --reconcile-users must be whole numbers from 1 to 10,000,000, separated by commas\n');
    process.exit(2);
  }
}
if (!(CONF.reconcileSpeed > 0 && CONF.reconcileSpeed <= 1000)) {
  process.stderr.write('bench: --reconcile-speed must be a number above 0, at most 1000\n');
  process.exit(2);
}
const OUT_DIR = path.resolve(ARGS.out ?? (QUICK ? path.join(os.tmpdir(), 'auth0-provision-bench') : path.join(__dirname, 'bench')));

const H = require('./bench/harness.js');
const { runPeerBurst, AUTH0_LIMIT_MS } = require('./bench/peer-burst.js');
const { runBurst } = require('./burst.js');
const { loadAction, ActionCache } = require('./emulator/runner.js');
const { rows, table, markdownTable, plot, int } = require('./bench/report.js');
const { measureReconcile } = require('./bench/reconcile.js');

const log = (s) => process.stderr.write(s + '\n'); // progress; the report goes to stdout

// ---- 1. deployable size ------------------------------------------------------------------

function measureSize() {
  const ours = fs.statSync(H.ACTIONS.ours).size;
  const peerCode = fs.statSync(H.ACTIONS.peer).size;
  const tree = H.dependencyTree('auth0');
  return {
    ours,
    before: CONF.before ? fs.statSync(CONF.before).size : null,
    peer: peerCode + tree.bytes,
    peerCode,
    peerDeps: tree.bytes,
    peerFiles: tree.files + 1,
    packages: tree.packages.map(({ name, version, dir, bytes, files }) => ({ name, version, dir, bytes, files })),
    missing: tree.missing,
  };
}

// ---- 2. cold start -------------------------------------------------------------------------

function spawnChild(kind, scenario, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [path.join(__dirname, 'bench/cold-child.js'), kind, scenario], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      // The Action's own log lines (ours logs one per sign-up) come before the result line.
      const line = out.split('\n').reverse().find((l) => l.startsWith('{"kind"'));
      if (code !== 0 || !line) return reject(new Error(`cold child ${kind}/${scenario} exited ${code}: ${err.split('\n')[0]}`));
      const r = JSON.parse(line);
      if (r.failed) return reject(new Error(`cold child ${kind}/${scenario} failed: ${r.failed}`));
      resolve({ ...r, wallMs });
    });
  });
}

async function measureCold() {
  const n = CONF.coldProcesses;
  const baseEnv = { ...process.env };
  delete baseEnv.SECRET_SCAN_DIR;
  delete baseEnv.NODE_OPTIONS;
  // Returning user, no network: the secrets point at a closed port (nothing may be requested).
  const offline = 'http://127.0.0.1:9';
  const returningEnv = {
    ours: { ...baseEnv, BENCH_SECRETS: JSON.stringify(H.secretsFor('ours', offline)) },
    peer: { ...baseEnv, BENCH_SECRETS: JSON.stringify(H.secretsFor('peer', offline)) },
    'peer-top': { ...baseEnv, BENCH_SECRETS: JSON.stringify(H.secretsFor('peer', offline)) },
    empty: { ...baseEnv, BENCH_SECRETS: '{}' },
    file: { ...baseEnv, BENCH_SECRETS: JSON.stringify(H.secretsFor('ours', offline)), BENCH_ACTION: CONF.before || '' },
  };
  // A new Google user's sign-up on a cold process, against the emulator served by this process.
  const signupUsers = { ours: H.googleSignups(n, 'coldours'), peer: H.googleSignups(n, 'coldpeer') };
  const emu = new H.BenchTenant(H.fixtureWith([...signupUsers.ours, ...signupUsers.peer]));
  await emu.start();
  const samples = { returning: { ours: [], peer: [], 'peer-top': [], empty: [] }, signup: { ours: [], peer: [] } };
  // --before: the earlier build in the same rotation (cold-child.js kind "file").
  if (CONF.before) samples.returning.file = [];
  try {
    const kinds = ['ours', 'peer', 'peer-top', 'empty', ...(CONF.before ? ['file'] : [])];
    for (let i = 0; i < n; i++) {
      // Rotate the order each round so no side always runs right after another.
      for (let j = 0; j < kinds.length; j++) {
        const kind = kinds[(i + j) % kinds.length];
        samples.returning[kind].push(await spawnChild(kind, 'returning', returningEnv[kind]));
      }
      for (const kind of i % 2 ? ['peer', 'ours'] : ['ours', 'peer']) {
        const user = signupUsers[kind][i];
        const before = emu.requests.length;
        emu.users.get(user.user_id).logins_count = 1;
        const env = { ...baseEnv, BENCH_SECRETS: JSON.stringify(H.secretsFor(kind, emu.origin)), BENCH_USER: user.user_id };
        const r = await spawnChild(kind, 'signup', env);
        r.requests = emu.requests.length - before;
        r.assigned = emu.users.get(user.user_id).roles.includes(H.PREMIUM);
        samples.signup[kind].push(r);
      }
      if ((i + 1) % 5 === 0 || i + 1 === n) log(`  cold: ${i + 1}/${n} rounds`);
    }
  } finally {
    await emu.stop();
  }
  const sum = (list) => ({
    n: list.length,
    toLoginEnd: H.summary(list.map((r) => r.toLoginEndMs)),
    action: H.summary(list.map((r) => r.actionMs)),
    boot: H.summary(list.map((r) => r.bootMs)),
    wall: H.summary(list.map((r) => r.wallMs)),
    loadedFiles: list[0].loadedFiles,
    loadedBytes: list[0].loadedBytes,
    allOk: list.every((r) => r.ok !== false),
    requests: list.map((r) => r.requests),
    assigned: list.filter((r) => r.assigned).length,
  });
  const out = {};
  for (const [scenario, byKind] of Object.entries(samples)) {
    out[scenario] = {};
    for (const [kind, list] of Object.entries(byKind)) out[scenario][kind] = sum(list);
  }
  for (const kind of ['ours', 'peer']) {
    const bad = samples.signup[kind].filter((r) => !r.assigned).length;
    if (bad) log(`  warning: ${bad} cold sign-up(s) of ${kind} ended without the role`);
  }
  return out;
}

// ---- 3. warm latency -----------------------------------------------------------------------

async function timeLoop(fn, iterations, into) {
  for (let i = 0; i < iterations; i++) {
    const args = fn.prepare();
    const t0 = performance.now();
    await fn.run(args);
    const dt = performance.now() - t0;
    if (into) into.push(dt);
  }
}

async function measureWarm() {
  const policy = H.policy20();
  const secrets = {
    ours: H.secretsFor('ours', 'http://127.0.0.1:9', { policy }),
    peer: H.secretsFor('peer', 'http://127.0.0.1:9'),
  };
  const actions = { ours: loadAction(H.ACTIONS.ours), peer: H.loadActionWithDeps(H.ACTIONS.peer) };
  const caches = { ours: new ActionCache(), peer: new ActionCache() };
  const kinds = ['ours', 'peer'];
  if (CONF.before) {
    actions.before = loadAction(CONF.before);
    caches.before = new ActionCache();
    secrets.before = secrets.ours;
    kinds.push('before');
  }
  const checks = {};
  const fns = {};
  for (const kind of kinds) {
    fns[kind] = {
      // A fresh event per iteration (as each execution gets), built outside the timed region.
      prepare: () => H.loginEvent(secrets[kind], caches[kind]),
      run: ({ event, api }) => actions[kind].onExecutePostLogin(event, api),
    };
    const probe = H.loginEvent(secrets[kind], caches[kind]);
    checks[kind] = await actions[kind].onExecutePostLogin(probe.event, probe.api);
  }
  if (!checks.ours || checks.ours.error || checks.ours.requests !== 0 || checks.ours.matched.length !== 1) {
    throw new Error(`warm: ours did not take the no-network path: ${JSON.stringify(checks.ours)}`);
  }
  const N = CONF.warmIterations;
  const warmup = Math.min(1000, Math.ceil(N / 10));
  for (const kind of kinds) await timeLoop(fns[kind], warmup);
  const samples = Object.fromEntries(kinds.map((k) => [k, []]));
  const block = 500;
  for (let done = 0; done < N; done += block) {
    const k = Math.min(block, N - done);
    // Rotate blocks so every side sees the same machine noise.
    const r = (done / block) % kinds.length;
    for (const kind of [...kinds.slice(r), ...kinds.slice(0, r)]) await timeLoop(fns[kind], k, samples[kind]);
  }
  const toUs = (list) => list.map((ms) => ms * 1000);
  return {
    iterations: N,
    warmup,
    policyRules: policy.rules.length,
    ours: H.summary(toUs(samples.ours)),
    peer: H.summary(toUs(samples.peer)),
    before: samples.before ? H.summary(toUs(samples.before)) : null,
  };
}

/** Extra: warm Google sign-ups against the emulator (no rate limit), through the runner. */
async function measureWarmSignups() {
  const n = CONF.warmSignups;
  const out = {};
  for (const kind of ['ours', 'peer']) {
    const users = H.googleSignups(n + 1, `warm${kind}`);
    const emu = new H.BenchTenant(H.fixtureWith(users));
    await emu.start();
    try {
      const runner = H.runnerFor(kind, emu);
      await runner.login(users[0].user_id); // warms the container (token, role id, SDK loaded)
      const ms = [];
      const before = emu.requests.length;
      for (const u of users.slice(1)) ms.push((await runner.login(u.user_id)).ms);
      out[kind] = { ...H.summary(ms), requestsPerLogin: (emu.requests.length - before) / n };
    } finally {
      await emu.stop();
    }
  }
  return out;
}

// ---- 4. Management API requests per login ----------------------------------------------------

async function measureRequests() {
  const out = {};
  const next = 5;
  for (const kind of ['ours', 'peer']) {
    const users = H.googleSignups(next + 3, `req${kind}`);
    const emu = new H.BenchTenant(H.fixtureWith(users));
    await emu.start();
    try {
      const runner = H.runnerFor(kind, emu);
      const n = async (id) => (await runner.login(id)).requests.length;
      const held = (id) => emu.users.get(id).roles.includes(H.PREMIUM);
      const r = {};
      r.firstSignupCold = await n(users[0].user_id);
      let sum = 0;
      for (let i = 1; i <= next; i++) sum += await n(users[i].user_id);
      r.nextSignupsWarm = sum / next;
      r.returning = (await n(H.RETURNING)) + (await n(users[0].user_id)); // Alan, then the first sign-up again
      r.returning /= 2;
      runner.newProcess(); // a new container; Auth0 kept api.cache
      r.signupNewContainer = await n(users[next + 1].user_id);
      runner.newProcess();
      runner.clearCache(); // a new container and api.cache lost
      r.signupNewContainerNoCache = await n(users[next + 2].user_id);
      r.allAssigned = users.every((u) => held(u.user_id));
      out[kind] = r;
    } finally {
      await emu.stop();
    }
  }
  out.limit = { firstSignupCold: 1, nextSignupsWarm: 1, returning: 0, signupNewContainer: 1, signupNewContainerNoCache: 1 };
  return out;
}

// ---- 5. burst --------------------------------------------------------------------------------

async function measureBurst() {
  const common = { users: CONF.burstUsers, rate: CONF.rate, burst: CONF.burstSize };
  log(`  burst: peer, ${common.users} sign-ups at ${common.rate} req/s`);
  const peer = await runPeerBurst({ ...common, deadlineMs: CONF.deadlineMs });
  log('  burst: peer again, token endpoint outside the rate limit');
  const peerTokenExempt = await runPeerBurst({ ...common, deadlineMs: CONF.deadlineMs, exemptTokenEndpoint: true });
  log(`  burst: ours, ${common.users} sign-ups at ${common.rate} req/s (about ${Math.ceil(common.users / common.rate)} s)`);
  const ours = await runBurst({ ...common, timeoutMs: CONF.deadlineMs });
  const peerSummary = (p) => ({
    overDeadline: p.afterBurst.overDeadline,
    overAuth0Limit: p.afterBurst.overAuth0Limit,
    limited: p.afterBurst.limited + p.afterNext.limited,
    requests: p.afterBurst.requests + p.afterNext.requests,
    lost: p.afterNext.lost,
    lostStrict: p.afterNext.lostStrict,
    maxLoginMs: p.afterBurst.maxLoginMs,
    medianLoginMs: H.summary(p.loginMs).median,
    wallMs: p.afterBurst.wallMs + p.afterNext.wallMs,
    raw: { afterBurst: p.afterBurst, afterNext: p.afterNext },
  });
  return {
    users: common.users,
    rate: common.rate,
    burst: common.burst,
    deadlineMs: CONF.deadlineMs,
    auth0LimitMs: AUTH0_LIMIT_MS,
    ours: {
      overDeadline: ours.afterBurst.overDeadline,
      overAuth0Limit: ours.afterBurst.maxLoginMs > AUTH0_LIMIT_MS ? 1 : 0, // runBurst gives the max only
      limited: ours.afterBurst.limited + ours.afterNext.limited,
      requests: ours.afterBurst.requests + ours.afterNext.requests,
      lost: ours.afterNext.lost,
      lostStrict: ours.afterNext.lost,
      maxLoginMs: ours.afterBurst.maxLoginMs,
      deferred: ours.afterBurst.deferred,
      wallMs: ours.afterBurst.wallMs + ours.afterNext.wallMs,
      raw: { afterBurst: ours.afterBurst, afterNext: ours.afterNext, tokenRequests: ours.tokenRequests, roleLookups: ours.roleLookups },
    },
    peer: peerSummary(peer),
    peerTokenExempt: peerSummary(peerTokenExempt),
  };
}

// ---- secrets -------------------------------------------------------------------------------

function knownSecrets() {
  return listedSecrets(SCAN_DIR, H.FIXTURE.clients.map((c) => c.client_secret));
}

/** Fails the run (prints nothing of it) if any output would contain a credential. */
function assertNoSecrets(texts) {
  const secrets = knownSecrets();
  for (const [name, text] of Object.entries(texts)) {
    for (const s of secrets) {
      if (text.includes(s)) throw new Error(`refusing to print or write ${name}: it contains a credential (${s.slice(0, 4)}…)`);
    }
    if (/emu\.[A-Za-z0-9_-]{20,}/.test(text)) throw new Error(`refusing to print or write ${name}: it contains an emulator token`);
  }
  return secrets.length;
}

/** Action log lines recorded by the runner (SECRET_SCAN_DIR) that contain a credential. */
function actionLogLeaks() {
  const secrets = knownSecrets();
  const outputs = recordedOutputs(SCAN_DIR);
  return { lines: outputs.length, leaks: outputs.filter((o) => secrets.some((s) => o.text.includes(s))).length };
}

// ---- main ----------------------------------------------------------------------------------

function replot() {
  const R = JSON.parse(fs.readFileSync(path.join(OUT_DIR, 'results.json'), 'utf8'));
  const list = rows(R);
  // Only the derived fields change: the table and its markdown.
  R.table = list.map(({ section, metric, ours, peer, ratio: r, note }) => ({ section, metric, ours, peer, ratio: r, note }));
  R.markdown = markdownTable(list);
  const json = JSON.stringify(R, null, 2) + '\n';
  const figure = plot(R);
  assertNoSecrets({ 'results.json': json, 'bench.svg': figure });
  fs.writeFileSync(path.join(OUT_DIR, 'results.json'), json);
  fs.writeFileSync(path.join(OUT_DIR, 'bench.svg'), figure);
  console.log(table(list));
  console.log(`redrew ${path.join(OUT_DIR, 'bench.svg')} from results.json of ${R.env.date}`);
}

// ---- 6. reconcile -----------------------------------------------------------------------------

function measureReconcileSection() {
  return measureReconcile({ sizes: CONF.reconcileUsers, profile: 'essentials', speed: CONF.reconcileSpeed, log });
}

/** --reconcile-only: the section alone, printed and written to reconcile.json. */
async function reconcileOnly() {
  const R = await measureReconcileSection();
  const text = R.lines.join('\n');
  const json = JSON.stringify({ date: new Date().toISOString(), node: process.versions.node, cpus: os.cpus().length, ...R }, null, 2) + '\n';
  assertNoSecrets({ report: text, 'reconcile.json': json });
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUT_DIR, 'reconcile.json'), json);
  console.log(text);
  console.log(`wrote ${path.join(OUT_DIR, 'reconcile.json')}`);
}

async function main() {
  if (ARGS.replot) return replot();
  if (CONF.reconcileOnly) return reconcileOnly();
  if (!fs.existsSync(H.ACTIONS.ours)) {
    log('dist/action.js is missing: building it (about a minute)');
    execFileSync(process.execPath, [path.join(__dirname, 'build.js')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const auth0Version = require(path.join(ROOT, 'node_modules/auth0/package.json')).version;
  const R = {
    env: {
      date: new Date().toISOString(),
      node: process.versions.node,
      platform: `${os.platform()} ${os.arch()}`,
      cpus: os.cpus().length,
      cpuModel: (os.cpus()[0] || {}).model,
      loadavg: os.loadavg().map((v) => +v.toFixed(2)),
      auth0Version,
      ours: path.relative(ROOT, H.ACTIONS.ours),
      peer: path.relative(ROOT, H.ACTIONS.peer),
    },
    config: CONF,
  };
  const t0 = Date.now();
  log('1/6 deployable size');
  R.size = measureSize();
  log(`2/6 cold start: ${CONF.coldProcesses} processes per Action and scenario`);
  R.cold = await measureCold();
  log(`3/6 warm latency: ${CONF.warmIterations} iterations each`);
  R.warm = await measureWarm();
  R.warmSignups = await measureWarmSignups();
  log('4/6 Management API requests per login');
  R.requests = await measureRequests();
  if (CONF.skipBurst) {
    log('5/6 burst: skipped (--skip-burst)');
    R.burst = null;
  } else {
    log('5/6 burst');
    R.burst = await measureBurst();
  }
  if (CONF.skipReconcile) {
    log('6/6 reconcile: skipped (--skip-reconcile)');
    R.reconcile = null;
  } else {
    log(`6/6 reconcile: ${CONF.reconcileUsers.map((n) => int(n)).join(', ')} users`);
    R.reconcile = await measureReconcileSection();
  }
  R.env.loadavgAfter = os.loadavg().map((v) => +v.toFixed(2));
  R.env.benchSeconds = Math.round((Date.now() - t0) / 1000);
  R.actionLogs = actionLogLeaks();
  const list = rows(R);
  R.table = list.map(({ section, metric, ours, peer, ratio: r, note }) => ({ section, metric, ours, peer, ratio: r, note }));
  R.markdown = markdownTable(list);

  const text = [
    `auth0-provision benchmark: ours = ${R.env.ours} (${int(R.size.ours)} B), peer = ${R.env.peer} + auth0@${auth0Version}`,
    `Node ${R.env.node} on ${R.env.platform}, ${R.env.cpus} CPUs, load ${R.env.loadavg.join(' ')}${CONF.quick ? '  [--quick]' : ''}`,
    '',
    table(list),
    '',
    `Action log lines recorded: ${R.actionLogs.lines}, containing a credential: ${R.actionLogs.leaks}`,
    ...(R.reconcile ? ['', ...R.reconcile.lines] : []),
  ].join('\n');
  const json = JSON.stringify(R, null, 2) + '\n';
  const figure = plot(R);
  const checked = assertNoSecrets({ report: text, 'results.json': json, 'bench.svg': figure });
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUT_DIR, 'results.json'), json);
  fs.writeFileSync(path.join(OUT_DIR, 'bench.svg'), figure);
  console.log(text);
  console.log(`(output checked against ${checked} known credentials)`);
  const rel = path.relative(process.cwd(), OUT_DIR);
  const where = rel && !rel.startsWith('..') ? rel : OUT_DIR;
  console.log(`wrote ${path.join(where, 'results.json')} and ${path.join(where, 'bench.svg')} (${R.env.benchSeconds} s)`);
}

main()
  .catch((e) => {
    let msg = String((e && e.message) || e);
    for (const s of knownSecrets()) msg = msg.split(s).join('<redacted>');
    console.error(`bench failed: ${msg}`);
    process.exitCode = 1;
  })
  .finally(() => fs.rmSync(SCAN_DIR, { recursive: true, force: true }));
