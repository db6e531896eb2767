'use strict';
// The Action's secrets judged by the Action's own rules: the host build of its Rust core
// (`policy check-secrets`, src/bin/policy.rs), so deploy and export accept exactly what the
// Action accepts at every login and keep no rules of their own.
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { spawnSync } = require('node:child_process');
const { ConfigError } = require('./errors.js');
const { ROOT, isOlderThanSources } = require('./action-code.js');

const CHECKER_INPUTS = ['src', 'Cargo.toml', 'Cargo.lock'];

/**
 * The checker: DEPLOY_POLICY_CHECKER names an executable; else target/release/policy, built
 * with cargo first when it is missing or older than its sources.
 */
function policyBinary(env, log) {
  const choice = env.DEPLOY_POLICY_CHECKER;
  if (choice === 'off') {
    throw new ConfigError('DEPLOY_POLICY_CHECKER=off is no longer possible: unchecked secrets would fail at every login instead; unset it (the checker is built when missing)');
  }
  if (choice) {
    const p = path.resolve(choice);
    if (!fs.existsSync(p)) throw new ConfigError(`DEPLOY_POLICY_CHECKER=${choice}: no such file (the \`policy\` executable that checks the Action's secrets)`);
    return p;
  }
  const bin = path.join(ROOT, 'target/release/policy');
  if (!isOlderThanSources(bin, CHECKER_INPUTS)) return bin;
  const existed = fs.existsSync(bin);
  const cargo = [path.join(os.homedir(), '.cargo/bin/cargo')].find((c) => fs.existsSync(c)) || 'cargo';
  const command = 'cargo build --release --features cli --bin policy';
  log(`${existed ? 'target/release/policy is older than its sources' : 'target/release/policy is missing'}: building the secrets checker (${command})`);
  const r = spawnSync(cargo, ['build', '--quiet', '--release', '--features', 'cli', '--bin', 'policy'], { cwd: ROOT, stdio: ['ignore', 2, 2], timeout: 900000 });
  if (r.status !== 0 || !fs.existsSync(bin)) {
    throw new ConfigError(`cannot check the Action's secrets: \`${command}\` ${r.error ? `could not run (${r.error.code || r.error.message})` : `failed (exit ${r.status})`}; ` +
      'it needs Rust (bash pkg-scripts/install-tools.sh sets up the rest), or set DEPLOY_POLICY_CHECKER to a built `policy` executable');
  }
  return bin;
}

/**
 * Checks secrets ({NAME: value}) with `policy check-secrets`. requireCredentials false: only
 * the secrets given are checked. `label(NAME)` says where the value came from. Returns the
 * report ({origin, timeout_ms, policy_rules, notes, checker}); throws a ConfigError naming
 * every bad secret (names and JSON paths, never a value).
 */
function checkSecrets(values, { requireCredentials = true, env = process.env, log = () => {}, label = (n) => n, what = "the Action's secrets" } = {}) {
  const bin = policyBinary(env, log);
  const args = ['check-secrets', '--json', ...(requireCredentials ? [] : ['--partial'])];
  // On stdin: a secret never reaches argv or a file.
  const r = spawnSync(bin, args, { cwd: ROOT, input: JSON.stringify(values), encoding: 'utf8', timeout: 60000, stdio: ['pipe', 'pipe', 'pipe'] });
  let report = null;
  try {
    report = JSON.parse(r.stdout);
  } catch (_) { /* reported below */ }
  if (!report || !Array.isArray(report.errors) || (r.status !== 0 && r.status !== 1)) {
    // A checker that exits before reading its input also gives EPIPE: its exit status says more.
    const why = typeof r.status === 'number' ? `exited ${r.status}${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`
      : `could not run (${r.error ? r.error.code || r.error.message : r.signal})`;
    throw new ConfigError(`cannot check ${what}: \`${path.basename(bin)} check-secrets\` ${why}`);
  }
  if (report.errors.length) {
    const lines = report.errors.map((e) => `  ${label(e.secret)}: ${e.path ? `${e.path}: ` : ''}${e.message}${e.hint ? `\n    hint: ${e.hint}` : ''}`);
    throw new ConfigError(`${what}: \`policy check-secrets\` (the checks the Action runs at every login) found ${report.errors.length} error(s):\n${lines.join('\n')}`);
  }
  for (const n of report.notes || []) log(`note: ${label(n.secret)}: ${n.message}`);
  return { ...report, checker: path.basename(bin) };
}

module.exports = { policyBinary, checkSecrets };
