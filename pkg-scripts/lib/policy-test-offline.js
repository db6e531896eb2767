'use strict';
// The `offline` expectation of a policy test case: what `npm run reconcile` would plan for the
// case's user, from the user record and held roles alone (no login). The plan comes from the
// real core, `policy reconcile-plan` (src/bin/policy/reconcile.rs: one NDJSON line in, one
// out), so a case asserts the decisions reconcile carries out, not a copy of them here.
const { spawnSync } = require('node:child_process');
const { isDeepStrictEqual } = require('node:util');
const { writeRolesFile } = require('../reconcile/core.js');

/** The expect.offline shorthand: no rule of the policy can be judged without a login. */
const NOT_EVALUABLE = 'not evaluable';

/**
 * The core's plan for one user snapshot ({user: Management API record, roles: [held ids]}).
 * Returns the plan line; throws an Error with the core's words when it refuses to run.
 */
function planOffline({ bin, policyFile, roles, snapshot }) {
  const table = writeRolesFile(roles);
  try {
    const r = spawnSync(bin, ['reconcile-plan', policyFile, '--roles', table.file], { input: JSON.stringify(snapshot) + '\n', encoding: 'utf8', timeout: 60000 });
    if (r.error) throw new Error(`\`policy reconcile-plan\` could not run (${r.error.code || r.error.message})`);
    const why = (r.stderr || '').trim().split('\n').slice(0, 4).join('; ');
    if (r.status !== 0) throw new Error(`\`policy reconcile-plan\` exited ${r.status}${why ? `: ${why}` : ''}`);
    const lines = r.stdout.split('\n').filter((l) => l.trim());
    if (lines.length !== 1) throw new Error(`\`policy reconcile-plan\` printed ${lines.length} lines for one user`);
    return JSON.parse(lines[0]);
  } finally {
    table.remove();
  }
}

/** A plan line in the vocabulary of expect.offline. */
function observeOffline(plan) {
  if (plan.error) return { error: String(plan.error) };
  const names = (list) => (list || []).map((r) => r.name);
  return {
    roles_assigned: names(plan.assign),
    roles_removed: names(plan.remove),
    // The markers PATCHed after the grants are metadata written all the same.
    app_metadata: { ...(plan.patch?.app_metadata || {}), ...(plan.patch_after?.app_metadata || {}) },
    user_metadata: { ...(plan.patch?.user_metadata || {}) },
    not_evaluable: (plan.rules || []).filter((r) => r.status === 'not_evaluable').map((r) => r.name),
    error: null,
  };
}

/** expect.offline with the shorthand spelled out: every rule skipped, nothing planned. */
function expandExpectation(want, ruleNames) {
  if (want !== NOT_EVALUABLE) return want;
  return { not_evaluable: ruleNames, roles_assigned: [], roles_removed: [], app_metadata: {}, user_metadata: {} };
}

const show = (v) => (v === undefined ? '(not set)' : JSON.stringify(v));
const sorted = (list) => list.map((x) => JSON.stringify(x)).sort();

/** One {key, expected, actual} per difference, keys prefixed "offline". */
function compareOffline(want, actual) {
  const diffs = [];
  const differ = (key, expected, got) => diffs.push({ key: `offline ${key}`, expected: show(expected), actual: show(got) });
  if (actual.error !== null) {
    if (want.error === undefined || !actual.error.includes(want.error)) differ('error', want.error === undefined ? null : `…${want.error}…`, actual.error);
    return diffs;
  }
  if (want.error !== undefined) differ('error', `…${want.error}…`, null);
  for (const key of ['roles_assigned', 'roles_removed', 'not_evaluable']) {
    if (key in want && !isDeepStrictEqual(sorted(want[key]), sorted(actual[key]))) differ(key, want[key], actual[key]);
  }
  for (const key of ['app_metadata', 'user_metadata']) {
    if (!(key in want)) continue;
    for (const k of new Set([...Object.keys(want[key]), ...Object.keys(actual[key])])) {
      if (!isDeepStrictEqual(want[key][k], actual[key][k])) differ(`${key}.${k}`, want[key][k], actual[key][k]);
    }
  }
  return diffs;
}

module.exports = { NOT_EVALUABLE, planOffline, observeOffline, expandExpectation, compareOffline };
