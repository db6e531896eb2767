'use strict';
// The benchmark's report (bench.js measures): the table of figures with the ratio ours/peer,
// as text and as markdown, and the figure (bench.svg). Only formats what it is given, so
// `bench.js --replot` redraws from a saved results.json.
const svg = require('./svg.js');

const int = (v) => Math.round(v).toLocaleString('en-US');
const ms1 = (v) => `${v.toFixed(1)} ms`;
const us = (v) => (v < 10 ? `${v.toFixed(2)} µs` : `${v.toFixed(1)} µs`);
const kb = (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} MB` : `${(v / 1e3).toFixed(1)} kB`);
const num = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

function ratio(a, b) {
  if (a === 0 && b === 0) return '—';
  if (b === 0) return '∞';
  const r = a / b;
  if (r === 0) return '0×';
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : r >= 0.01 ? `${r.toFixed(2)}×` : `${r.toPrecision(2)}×`;
}

function rows(R) {
  const out = [];
  const add = (section, metric, a, b, f, note = '') => out.push({ section, metric, ours: f(a), peer: f(b), ratio: ratio(a, b), note, a, b });
  const s = R.size;
  add('1. size', 'deployable bytes (code + npm deps)', s.ours, s.peer, (v) => `${int(v)} B (${kb(v)})`,
    `peer: ${int(s.peerCode)} B code + ${s.packages.length} packages, ${int(s.peerFiles)} files`);
  add('1. size', 'bytes read to run a sign-up', s.ours, R.cold.signup.peer.loadedBytes, (v) => `${int(v)} B`,
    `peer requires ${R.cold.signup.peer.loadedFiles} files`);
  const c = R.cold;
  const fl = c.returning.empty;
  for (const [q, label] of [['median', 'median'], ['p90', 'p90']]) {
    add('2. cold start', `returning user: process start → login end, ${label}`, c.returning.ours.toLoginEnd[q], c.returning.peer.toLoginEnd[q], ms1,
      `empty Action ${ms1(fl.toLoginEnd[q])}`);
  }
  for (const [q, label] of [['median', 'median'], ['p90', 'p90']]) {
    add('2. cold start', `returning user: child wall time, ${label}`, c.returning.ours.wall[q], c.returning.peer.wall[q], ms1,
      `empty Action ${ms1(fl.wall[q])}`);
  }
  add('2. cold start', 'returning user: load + login only, median', c.returning.ours.action.median, c.returning.peer.action.median, ms1,
    `empty Action ${ms1(fl.action.median)}`);
  add('2. cold start', 'returning user: load + login, above the empty Action, median', c.returning.ours.action.median - fl.action.median,
    c.returning.peer.action.median - fl.action.median, ms1, 'goal: ours ≤ 4 ms');
  const top = c.returning['peer-top'];
  add('2. cold start', 'returning user, peer requiring auth0 at module scope: process start → login end, median',
    c.returning.ours.toLoginEnd.median, top.toLoginEnd.median, ms1, `extra; p90 ${ms1(c.returning.ours.toLoginEnd.p90)} vs ${ms1(top.toLoginEnd.p90)}`);
  for (const [q, label] of [['median', 'median'], ['p90', 'p90']]) {
    add('2. cold start', `Google sign-up (3 requests to the emulator): process start → login end, ${label}`,
      c.signup.ours.toLoginEnd[q], c.signup.peer.toLoginEnd[q], ms1, q === 'median' ? 'extra: the peer loads the SDK here' : '');
  }
  add('2. cold start', 'Google sign-up: child wall time, median', c.signup.ours.wall.median, c.signup.peer.wall.median, ms1);
  const w = R.warm;
  add('3. warm', `returning user, no network (ours: ${w.policyRules} rules), median`, w.ours.median, w.peer.median, us,
    `${int(w.iterations)} iterations; the peer's guard returns at once`);
  add('3. warm', 'returning user, no network, p99', w.ours.p99, w.peer.p99, us);
  const ws = R.warmSignups;
  add('3. warm', 'Google sign-up on a warm container vs emulator, median', ws.ours.median, ws.peer.median, ms1,
    `extra, ${ws.ours.n} sign-ups each, no rate limit`);
  add('3. warm', 'Google sign-up on a warm container vs emulator, p99', ws.ours.p99, ws.peer.p99, ms1);
  const q = R.requests;
  const lim = q.limit;
  add('4. requests', 'first Google sign-up, cold container', q.ours.firstSignupCold, q.peer.firstSignupCold, num, `limit ${lim.firstSignupCold}`);
  add('4. requests', 'next Google sign-ups, warm container (mean of 5)', q.ours.nextSignupsWarm, q.peer.nextSignupsWarm, num, `limit ${lim.nextSignupsWarm}`);
  add('4. requests', 'returning user (holds the role)', q.ours.returning, q.peer.returning, num, `limit ${lim.returning}`);
  add('4. requests', 'Google sign-up, new container, api.cache kept', q.ours.signupNewContainer, q.peer.signupNewContainer, num, `extra; limit ${lim.signupNewContainer}`);
  add('4. requests', 'Google sign-up, new container, api.cache lost', q.ours.signupNewContainerNoCache, q.peer.signupNewContainerNoCache, num, `extra; limit ${lim.signupNewContainerNoCache}`);
  if (R.burst) {
    const b = R.burst;
    const head = `${b.users} sign-ups, ${b.rate} req/s`;
    add('5. burst', `${head}: logins over ${b.deadlineMs / 1000} s`, b.ours.overDeadline, b.peer.overDeadline, num,
      `peer, token unlimited: ${b.peerTokenExempt.overDeadline}`);
    add('5. burst', `${head}: logins over Auth0's ${b.auth0LimitMs / 1000} s`, b.ours.overAuth0Limit, b.peer.overAuth0Limit, num,
      `peer, token unlimited: ${b.peerTokenExempt.overAuth0Limit}`);
    add('5. burst', `${head}: slowest login`, b.ours.maxLoginMs, b.peer.maxLoginMs, (v) => `${(v / 1000).toFixed(1)} s`,
      `peer, token unlimited: ${(b.peerTokenExempt.maxLoginMs / 1000).toFixed(1)} s`);
    add('5. burst', `${head}: 429s received (burst + next logins)`, b.ours.limited, b.peer.limited, num,
      `peer, token unlimited: ${b.peerTokenExempt.limited}`);
    add('5. burst', `${head}: users holding the role right after their sign-up login`, b.ours.raw.afterBurst.holders, b.peer.raw.afterBurst.holders, num,
      `peer, token unlimited: ${b.peerTokenExempt.raw.afterBurst.holders}; ours deferred ${b.ours.raw.afterBurst.deferred} (marked pending)`);
    add('5. burst', `${head}: users without the role after their next login`, b.ours.lost, b.peer.lost, num,
      `peer, token unlimited: ${b.peerTokenExempt.lost}; limit 0`);
  }
  // --before: the earlier build measured in the same run (ours/before in the ratio column).
  const fb = c.returning.file;
  if (s.before && fb && R.warm.before) {
    const vs = (metric, a, b, f, note = '') => out.push({ section: '0. before/after', metric, ours: f(a), peer: f(b), ratio: ratio(a, b), note, a, b });
    vs('size: dist/action.js (ours / before)', s.ours, s.before, (v) => `${int(v)} B`, 'peer column: the --before build');
    vs('cold start: load + login above empty, median (ours / before)', c.returning.ours.action.median - fl.action.median,
      fb.action.median - fl.action.median, ms1, `p90 ${ms1(c.returning.ours.action.p90 - fl.action.p90)} vs ${ms1(fb.action.p90 - fl.action.p90)}`);
    vs(`warm: returning user, ${R.warm.policyRules} rules, median (ours / before)`, R.warm.ours.median, R.warm.before.median, us,
      `p99 ${us(R.warm.ours.p99)} vs ${us(R.warm.before.p99)}`);
  }
  return out;
}

function table(list) {
  const head = ['figure', 'ours', 'peer', 'ours/peer', 'note'];
  const data = list.map((r) => [`${r.section}: ${r.metric}`, r.ours, r.peer, r.ratio, r.note]);
  const widths = head.map((h, i) => Math.max(h.length, ...data.map((d) => d[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((n) => '-'.repeat(n)).join('  '), ...data.map(line)].join('\n');
}

function markdownTable(list) {
  const out = ['| figure | ours | peer | ours/peer | note |', '| --- | ---: | ---: | ---: | --- |'];
  for (const r of list) out.push(`| ${r.section}: ${r.metric} | ${r.ours} | ${r.peer} | ${r.ratio} | ${r.note} |`);
  return out.join('\n');
}

function plot(R) {
  const s = R.size;
  const c = R.cold;
  const w = R.warm;
  const q = R.requests;
  const panels = [
    {
      title: '1. Deployable size',
      subtitle: 'bytes, log scale; dashed: Auth0 code limit 100 kB (npm deps not counted)',
      log: true,
      rows: [
        { label: 'ours: dist/action.js', series: 'ours', value: s.ours, limit: 100000, text: kb(s.ours) },
        { label: 'peer: code + deps', series: 'peer', value: s.peer, text: kb(s.peer) },
        { gap: true },
        { label: 'ours: read for a sign-up', series: 'ours', value: s.ours, text: kb(s.ours) },
        { label: 'peer: read for a sign-up', series: 'peer', value: c.signup.peer.loadedBytes, text: kb(c.signup.peer.loadedBytes) },
      ],
    },
    {
      title: '2. Cold start (fresh Node process)',
      subtitle: `process start → login end, ms, median, whisker p90, ${c.returning.ours.n} runs each`,
      rows: [
        { label: 'empty: returning', series: 'floor', value: c.returning.empty.toLoginEnd.median, whisker: c.returning.empty.toLoginEnd.p90, text: ms1(c.returning.empty.toLoginEnd.median) },
        { label: 'ours: returning', series: 'ours', value: c.returning.ours.toLoginEnd.median, whisker: c.returning.ours.toLoginEnd.p90, text: ms1(c.returning.ours.toLoginEnd.median) },
        { label: 'peer: returning', series: 'peer', value: c.returning.peer.toLoginEnd.median, whisker: c.returning.peer.toLoginEnd.p90, text: ms1(c.returning.peer.toLoginEnd.median) },
        { label: 'peer, SDK at top: returning', series: 'peer', value: c.returning['peer-top'].toLoginEnd.median, whisker: c.returning['peer-top'].toLoginEnd.p90, text: ms1(c.returning['peer-top'].toLoginEnd.median) },
        { gap: true },
        { label: 'ours: Google sign-up', series: 'ours', value: c.signup.ours.toLoginEnd.median, whisker: c.signup.ours.toLoginEnd.p90, text: ms1(c.signup.ours.toLoginEnd.median) },
        { label: 'peer: Google sign-up', series: 'peer', value: c.signup.peer.toLoginEnd.median, whisker: c.signup.peer.toLoginEnd.p90, text: ms1(c.signup.peer.toLoginEnd.median) },
      ],
    },
    {
      title: '3. Warm latency of one login',
      subtitle: `returning user, no network: µs, log scale, median, whisker p99, ${int(w.iterations)} runs`,
      notes: [
        `ours: ${w.policyRules}-rule policy evaluated, 0 requests; the peer's logins_count guard returns at once.`,
        `Warm Google sign-up vs the emulator (no rate limit), median: ours ${ms1(R.warmSignups.ours.median)} (1 request),`,
        `peer ${ms1(R.warmSignups.peer.median)} (3 requests); p99 ${ms1(R.warmSignups.ours.p99)} vs ${ms1(R.warmSignups.peer.p99)}.`,
      ],
      log: true,
      unit: ' µs',
      rows: [
        { label: `ours (${w.policyRules} rules)`, series: 'ours', value: w.ours.median, whisker: w.ours.p99, text: us(w.ours.median) },
        { label: 'peer (guard returns)', series: 'peer', value: w.peer.median, whisker: w.peer.p99, text: us(w.peer.median) },
      ],
    },
    {
      title: '4. Management API requests per login',
      subtitle: 'counted by the emulator; dashed: the physical limit',
      rows: [
        ['first sign-up, cold', 'firstSignupCold'],
        ['next sign-ups, warm', 'nextSignupsWarm'],
        ['returning user', 'returning'],
        ['sign-up, new container', 'signupNewContainer'],
      ].flatMap(([label, key], i) => [
        ...(i ? [{ gap: true }] : []),
        { label: `ours: ${label}`, series: 'ours', value: q.ours[key], limit: q.limit[key], text: num(q.ours[key]) },
        { label: `peer: ${label}`, series: 'peer', value: q.peer[key], limit: q.limit[key], text: num(q.peer[key]) },
      ]),
    },
  ];
  if (R.burst) {
    const b = R.burst;
    panels.push({
      title: `5. Burst: ${b.users} concurrent Google sign-ups at ${b.rate} req/s`,
      subtitle: 'users without the role after their next login; 429s received',
      notes: [
        `role held right after sign-up: ours ${b.ours.raw.afterBurst.holders}, peer ${b.peer.raw.afterBurst.holders}, peer* ${b.peerTokenExempt.raw.afterBurst.holders} (ours defers the rest)`,
        'peer*: the same peer with /oauth/token outside the rate limit',
      ],
      rows: [
        { label: 'ours: users lost', series: 'ours', value: b.ours.lost, limit: 0, text: `${b.ours.lost} of ${b.users}` },
        { label: 'peer: users lost', series: 'peer', value: b.peer.lost, limit: 0, text: `${b.peer.lost} of ${b.users}` },
        { label: 'peer*: users lost', series: 'peer', value: b.peerTokenExempt.lost, limit: 0, text: `${b.peerTokenExempt.lost} of ${b.users}` },
        { gap: true },
        { label: 'ours: 429s', series: 'ours', value: b.ours.limited, text: int(b.ours.limited) },
        { label: 'peer: 429s', series: 'peer', value: b.peer.limited, text: int(b.peer.limited) },
        { label: 'peer*: 429s', series: 'peer', value: b.peerTokenExempt.limited, text: int(b.peerTokenExempt.limited) },
      ],
    });
    panels.push({
      title: '5. Burst: login durations',
      subtitle: `seconds; dashed: our deadline ${b.deadlineMs / 1000} s (Auth0 cuts a login at ${b.auth0LimitMs / 1000} s)`,
      notes: [`logins over Auth0's ${b.auth0LimitMs / 1000} s: ours ${b.ours.overAuth0Limit}, peer ${b.peer.overAuth0Limit}, peer* ${b.peerTokenExempt.overAuth0Limit}`],
      rows: [
        { label: 'ours: slowest login', series: 'ours', value: b.ours.maxLoginMs / 1000, limit: b.deadlineMs / 1000, text: `${(b.ours.maxLoginMs / 1000).toFixed(1)} s` },
        { label: 'peer: slowest login', series: 'peer', value: b.peer.maxLoginMs / 1000, limit: b.deadlineMs / 1000, text: `${(b.peer.maxLoginMs / 1000).toFixed(1)} s` },
        { label: 'peer*: slowest login', series: 'peer', value: b.peerTokenExempt.maxLoginMs / 1000, limit: b.deadlineMs / 1000, text: `${(b.peerTokenExempt.maxLoginMs / 1000).toFixed(1)} s` },
        { gap: true },
        { label: 'ours: over 8 s', series: 'ours', value: b.ours.overDeadline, text: String(b.ours.overDeadline) },
        { label: 'peer: over 8 s', series: 'peer', value: b.peer.overDeadline, text: String(b.peer.overDeadline) },
        { label: 'peer*: over 8 s', series: 'peer', value: b.peerTokenExempt.overDeadline, text: String(b.peerTokenExempt.overDeadline) },
      ],
    });
  }
  return svg.render({
    title: 'auth0-provision (Rust → wasm) vs the auth0 SDK peer',
    subtitle: `auth0@${R.env.auth0Version}, Node ${R.env.node}, ${R.env.cpus} CPUs; one run (${R.env.date}); ratios are from this run`,
    panels,
  });
}

module.exports = { rows, table, markdownTable, plot, int };
