'use strict';
// The bench's reconcile section: `npm run reconcile` (dry run, then --apply) against the
// emulator (pkg-scripts/emulator/cli.js, its own process) at 10k and 100k users (1M behind
// --reconcile-1m), premium-for-google, Essentials rate buckets sped up ×speed. Per run:
// requests sent vs the minimum, wall time vs the rate-limit bound, peak RSS of the reconcile
// process and of its core child, 429s. The baseline, computed from request counts at the
// same buckets: what an SDK script does (list the users, GET each user's roles, one POST
// per user that needs the role). And from the measured counts, a 1M-user --apply per plan.
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { PROFILES, classify } = require('../emulator/ratelimit.js');

const ROOT = path.resolve(__dirname, '../..');
const POLICY = path.join(ROOT, 'pkg-scripts/policies/premium-for-google.json');
const CORE = path.join(ROOT, 'target/release/policy');

/** Peak RSS (VmHWM, bytes) of a process and of its children, polled from /proc (Linux); null elsewhere. */
function watchRss(pid) {
  const peak = { self: null, core: null };
  const hwm = (p) => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : null;
    } catch (_) {
      return null;
    }
  };
  const poll = () => {
    const s = hwm(pid);
    if (s !== null) peak.self = Math.max(peak.self || 0, s);
    let kids = [];
    try {
      kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch (_) { /* gone, or no /proc */ }
    for (const k of kids) {
      const c = hwm(k);
      if (c !== null) peak.core = Math.max(peak.core || 0, c);
    }
  };
  const timer = setInterval(poll, 50);
  return { poll, stop: () => { clearInterval(timer); return peak; } };
}

/** Starts the emulator: {env, stop() → its closing line}. */
const EXPORT_JOB_MS = 1500; // the emulator's export job time (its default, passed explicitly)

async function emulator(users, profile, speed) {
  const args = ['--users', String(users), '--rate', profile, '--speed', String(speed), '--export-job-ms', String(EXPORT_JOB_MS)];
  const child = spawn(process.execPath, [path.join(ROOT, 'pkg-scripts/emulator/cli.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const lines = readline.createInterface({ input: child.stdout });
  const env = {};
  for await (const l of lines) {
    const m = /^(AUTH0_[A-Z_]+)=(.*)$/.exec(l);
    if (m) env[m[1]] = m[2];
    if (Object.keys(env).length === 3) break;
  }
  if (Object.keys(env).length !== 3) throw new Error(`the emulator did not start: ${err}`);
  const closed = new Promise((r) => child.on('close', r));
  return { env, stop: async () => { child.kill('SIGTERM'); await closed; return err.trim().split('\n').at(-1); } };
}

/** One reconcile run: {status, stdout, stderr, seconds, rss}. */
function reconcile(args, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [path.join(ROOT, 'pkg-scripts/reconcile.js'), '--policy', POLICY, ...args], {
      cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, DEPLOY_POLICY_CHECKER: CORE, RECONCILE_PROGRESS_MS: '600000', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const rss = watchRss(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; rss.poll(); });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, seconds: Number(process.hrtime.bigint() - t0) / 1e9, rss: rss.stop() }));
  });
}

const num = (re, text, what) => {
  const m = re.exec(text);
  if (!m) throw new Error(`reconcile output without ${what}:\n${text}`);
  return m.slice(1).map(Number);
};

/**
 * What one reconcile run's output says. Reads: `reads as in this run (N, L answered 429)`;
 * the plan: users scanned, with changes, writes by kind; the apply: writes sent and 429s.
 */
function parse(out) {
  const [users, withChanges] = num(/users scanned: (\d+); with changes: (\d+)/, out, 'the summary');
  const [writes, deletes, patches, batches, after] = num(/requests --apply will send: (\d+) write\(s\): (\d+) DELETE \S+, (\d+) PATCH \S+, (\d+) POST \S+ \(batches of up to \d+\), (\d+) PATCH after/, out, 'the write count');
  const [reads, readLimited] = num(/plus reads as in this run \((\d+), (\d+) answered 429\)/, out, 'the read count');
  const members = [...out.matchAll(/\(rol_[^,]+, (\d+) members\)/g)].map((m) => Number(m[1]));
  const r = { users, withChanges, min: { writes, deletes, patches, batches, after }, reads, readLimited, members };
  const applied = /requests: (\d+) write\(s\) sent for a minimum of (\d+)(?: \([^)]*\))?; retried \d+ \(429s: (\d+)\)/.exec(out);
  if (applied) Object.assign(r, { sent: Number(applied[1]), writeLimited: Number(applied[3]) });
  return r;
}

/** Seconds `n` requests take on a bucket {burst, perSecond} that starts full. */
const bucketSeconds = (n, b) => (b ? Math.max(0, n - b.burst) / b.perSecond : 0);

/**
 * The rate-limit bound of a list of [method, path, count] on a profile (×speed): the
 * requests of each bucket after its burst at its rate, summed (reconcile's phases run in
 * turn); an API-wide bucket takes them all.
 */
function bound(requests, profile, speed = 1) {
  const p = PROFILES[profile];
  const per = new Map();
  let all = 0;
  for (const [method, pathname, n] of requests) {
    const cls = classify(method, pathname);
    if (!cls) continue;
    all += n;
    const spec = p.endpoints[cls] || null;
    if (spec) per.set(cls, { n: (per.has(cls) ? per.get(cls).n : 0) + n, spec });
  }
  const scale = (b) => ({ burst: b.burst, perSecond: b.perSecond * speed });
  let s = 0;
  for (const { n, spec } of per.values()) s += bucketSeconds(n, scale(spec));
  if (p.api) s = Math.max(s, bucketSeconds(all, scale(p.api)));
  return s;
}

/** Our requests: reads (role members paged by 100, the export) and the planned writes. */
function ourRequests(plan) {
  const pages = plan.members.reduce((a, m) => a + Math.max(1, Math.ceil(m / 100)), 0);
  return {
    reads: [['GET', '/api/v2/roles', 1], ['GET', '/api/v2/roles/r/users', pages], ['POST', '/api/v2/jobs/users-exports', 1], ['GET', '/api/v2/jobs/j', 1]],
    writes: [['DELETE', '/api/v2/users/u/roles', plan.min.deletes], ['PATCH', '/api/v2/users/u', plan.min.patches + plan.min.after], ['POST', '/api/v2/roles/r/users', plan.min.batches]],
  };
}
const total = (list) => list.reduce((a, [, , n]) => a + n, 0);

/**
 * The SDK script's requests: list the users (GET /users, 100 a page: what the SDK's getAll
 * pages by; above 1,000 users it needs the same export as we do), GET /users/{id}/roles for
 * each user, POST /users/{id}/roles for each user who needs the role.
 */
function naiveRequests(plan) {
  const list = plan.users > 1000 ? [['POST', '/api/v2/jobs/users-exports', 1], ['GET', '/api/v2/jobs/j', 1]] : [['GET', '/api/v2/users', Math.ceil(plan.users / 100)]];
  return [...list, ['GET', '/api/v2/users/u/roles', plan.users], ['POST', '/api/v2/users/u/roles', plan.withChanges]];
}

/** Scales a request list from `from` users to `to` users (the counts grow with the tenant). */
const scaled = (list, k) => list.map(([m, p, n]) => [m, p, n <= 2 && /jobs/.test(p) ? n : Math.ceil(n * k)]);

/** One tenant size: the dry run, the apply, a second apply (nothing to write). */
async function measureSize(users, { profile, speed, log }) {
  const emu = await emulator(users, profile, speed);
  try {
    log(`  ${users.toLocaleString('en-US')} users: dry run`);
    const dry = await reconcile([], emu.env);
    if (dry.status !== 0) throw new Error(`dry run failed (${dry.status}): ${dry.stderr}`);
    const plan = parse(dry.stdout);
    log(`  ${users.toLocaleString('en-US')} users: --apply (${plan.min.writes} writes)`);
    const apply = await reconcile(['--apply', '--max-changes', String(10 * users + 10)], emu.env);
    if (apply.status !== 0) throw new Error(`--apply failed (${apply.status}): ${apply.stderr}`);
    const applied = parse(apply.stdout);
    const again = await reconcile(['--apply', '--max-changes', '0'], emu.env);
    const rerun = parse(again.stdout);
    const emuLine = await emu.stop();
    const req = ourRequests(plan);
    return {
      users, plan, emulator: emuLine,
      // The bound of a run that reads by export includes the export job's own time.
      dry: { seconds: dry.seconds, requests: plan.reads, minimum: total(req.reads), limited: plan.readLimited, bound: bound(req.reads, profile, speed) + EXPORT_JOB_MS / 1000, rss: dry.rss },
      apply: {
        seconds: apply.seconds, reads: applied.reads, writes: applied.sent, minimumWrites: plan.min.writes, requests: applied.reads + applied.sent,
        minimum: total(req.reads) + plan.min.writes, limited: applied.readLimited + applied.writeLimited,
        bound: bound([...req.reads, ...req.writes], profile, speed) + EXPORT_JOB_MS / 1000, rss: apply.rss,
      },
      rerun: { writes: rerun.sent, seconds: again.seconds },
      naive: { requests: total(naiveRequests(plan)), bound: bound(naiveRequests(plan), profile, speed) },
    };
  } catch (e) {
    await emu.stop();
    throw e;
  }
}

const PLANS = [
  ['free', 'Free (API-wide 2/s)'],
  ['essentials', 'Essentials / Professional (write users 200/min, other 150/min, read users 500/min)'],
  ['enterprise', 'Enterprise (API-wide 16/s)'],
];

/** A 1M-user apply per plan, at speed 1, from the largest measured size's request counts. */
function estimates(largest) {
  const k = 1_000_000 / largest.users;
  const req = ourRequests(largest.plan);
  const ours = scaled([...req.reads, ...req.writes], k);
  const naive = scaled(naiveRequests(largest.plan), k);
  return PLANS.map(([profile, label]) => ({ profile, label, requests: total(ours), seconds: bound(ours, profile), naiveRequests: total(naive), naiveSeconds: bound(naive, profile) }));
}

const int = (v) => Math.round(v).toLocaleString('en-US');
const mb = (v) => (v === null || v === undefined ? 'n/a' : `${(v / 1048576).toFixed(0)} MB`);
const dur = (s) => (s < 120 ? `${s.toFixed(1)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`);
const x = (a, b) => (b ? `${(a / b).toFixed(2)}×` : '—');

/** The section as text lines. */
function lines(R) {
  const out = [`reconcile: premium-for-google, emulator with ${R.profile} rate buckets ×${R.speed} (bounds at that rate)`];
  const rows = [['users', 'run', 'requests', 'minimum', 'ratio', 'wall', 'rate bound', 'ratio', '429s', 'peak RSS (core)']];
  for (const s of R.sizes) {
    rows.push([int(s.users), 'dry run', int(s.dry.requests), int(s.dry.minimum), x(s.dry.requests, s.dry.minimum), dur(s.dry.seconds), dur(s.dry.bound), x(s.dry.seconds, s.dry.bound), String(s.dry.limited), `${mb(s.dry.rss.self)} (${mb(s.dry.rss.core)})`]);
    rows.push(['', '--apply', int(s.apply.requests), int(s.apply.minimum), x(s.apply.requests, s.apply.minimum), dur(s.apply.seconds), dur(s.apply.bound), x(s.apply.seconds, s.apply.bound), String(s.apply.limited), `${mb(s.apply.rss.self)} (${mb(s.apply.rss.core)})`]);
    rows.push(['', '  writes', int(s.apply.writes), int(s.apply.minimumWrites), x(s.apply.writes, s.apply.minimumWrites), '', '', '', '', '']);
    rows.push(['', 'SDK script', int(s.naive.requests), int(s.apply.minimum), x(s.naive.requests, s.apply.minimum), '(computed)', dur(s.naive.bound), `${x(s.naive.bound, s.apply.seconds)} ours`, '', '']);
    rows.push(['', 're-run', `${int(s.rerun.writes)} writes`, '0', '', dur(s.rerun.seconds), '', '', '', '']);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) out.push('  ' + r.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd());
  out.push("  (requests: Management API requests the run sent; minimum: reads as paged by the API's maximum page size + the plan's writes at --batch-size 100;");
  out.push(`   rate bound: each bucket's requests after its burst at its refill rate, summed over the phases, which run in turn, + the export job's ${EXPORT_JOB_MS / 1000} s;`);
  out.push('   wall: the whole process, from start (reading the tenant, the core planning every user) to exit; peak RSS: VmHWM of the reconcile process (of its core child);');
  out.push('   SDK script: list the users, GET /users/{id}/roles for each, POST /users/{id}/roles for each who needs the role — its bound at the same buckets)');
  out.push(`1M-user --apply at each plan's documented limits, from the ${int(R.sizes.at(-1).users)}-user request counts ×${1_000_000 / R.sizes.at(-1).users} (the export job's own time not included):`);
  for (const e of R.estimates) out.push(`  ${e.label}: ${int(e.requests)} requests ≈ ${dur(e.seconds)}; the SDK script ${int(e.naiveRequests)} requests ≈ ${dur(e.naiveSeconds)}`);
  return out;
}

/** The whole section: {profile, speed, sizes[], estimates[]}. */
async function measureReconcile({ sizes, profile = 'essentials', speed = 10, log = () => {} }) {
  if (!fs.existsSync(CORE)) throw new Error(`${CORE} is missing: cargo build --release --features cli --bin policy`);
  const R = { profile, speed, policy: path.relative(ROOT, POLICY), sizes: [] };
  for (const users of sizes) R.sizes.push(await measureSize(users, { profile, speed, log }));
  R.estimates = estimates(R.sizes.at(-1));
  R.lines = lines(R);
  return R;
}

module.exports = { measureReconcile, bound, parse, lines, estimates };
