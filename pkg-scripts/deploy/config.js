'use strict';
// What `npm run deploy` and `npm run export` share: the .env file, the deployer's and the
// Action's settings, the policy check, the Action code (rebuilt when stale) and the naming
// of one Action per trigger. Node built-ins only.
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const crypto = require('node:crypto');
const { execFileSync, spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '../..');
const DEFAULT_ACTION = path.join(ROOT, 'dist/action.js');
const CODE_LIMIT = 100 * 1000; // Auth0: an Action's code is at most 100 kB
const RUNTIME = 'node22';
const DEFAULT_NAME = 'provision-access';
/** The triggers dist/action.js serves, with the trigger version its handler is written for. */
const TRIGGERS = {
  'post-login': { version: 'v3', handler: 'onExecutePostLogin' },
  'post-user-registration': { version: 'v2', handler: 'onExecutePostUserRegistration' },
};
/** Sources whose change makes dist/action.js stale. */
const BUILD_INPUTS = ['src', 'js-shim', 'pkg-scripts/build.js', 'Cargo.toml', 'Cargo.lock'];

class UsageError extends Error {}
class ConfigError extends Error {}

/**
 * Parses a .env file: `KEY=value` lines, `#` comments, an optional `export ` prefix, values
 * in "double quotes" (escapes \n \" \\; may span lines), 'single quotes' (literal) or bare
 * (an inline ` #comment` is dropped). Errors name the line, never its content.
 */
function parseEnvFile(text, file = '.env') {
  const out = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s?(.*)$/.exec(line);
    if (!m) throw new ConfigError(`${file}:${i + 1}: expected KEY=value`);
    const [, key] = m;
    let rest = m[2];
    const q = rest.trimStart()[0];
    if (q === '"' || q === "'") {
      rest = rest.trimStart().slice(1);
      let value = '';
      const start = i;
      for (;;) {
        const end = q === "'" ? rest.indexOf("'") : findClosingQuote(rest);
        if (end >= 0) {
          value += rest.slice(0, end);
          const tail = rest.slice(end + 1).trim();
          if (tail && !tail.startsWith('#')) throw new ConfigError(`${file}:${i + 1}: unexpected text after the closing quote`);
          break;
        }
        value += rest + '\n';
        if (++i >= lines.length) throw new ConfigError(`${file}:${start + 1}: unterminated ${q} quote`);
        rest = lines[i];
      }
      out[key] = q === '"' ? value.replace(/\\(.)/g, (_, c) => ({ n: '\n', r: '\r', t: '\t' })[c] || c) : value;
    } else {
      out[key] = rest.replace(/\s+#.*$/, '').trim();
    }
  }
  return out;
}

function findClosingQuote(s) {
  for (let j = 0; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '"') return j;
  }
  return -1;
}

/**
 * The environment: the .env file's values under the process's own (a variable set in the
 * environment wins). The default file may be absent; one named with --env-file may not.
 */
function loadEnv(envFile, { explicit = false, env = process.env } = {}) {
  let fileVars = {};
  if (fs.existsSync(envFile)) {
    fileVars = parseEnvFile(fs.readFileSync(envFile, 'utf8'), path.basename(envFile));
  } else if (explicit) {
    throw new ConfigError(`--env-file ${envFile}: no such file`);
  }
  const merged = { ...fileVars };
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v;
  return merged;
}

function required(env, name, what) {
  const v = env[name];
  if (v === undefined || String(v).trim() === '') throw new ConfigError(`${name} is not set (${what})`);
  return String(v).trim();
}

/**
 * The host build of the Action's Rust core (`src/bin/policy.rs`), which checks secrets the
 * way the Action does. DEPLOY_POLICY_CHECKER names another executable; else
 * target/release/policy, built with cargo first when it is missing or older than its sources.
 */
function policyBinary(env, log) {
  const choice = env.DEPLOY_POLICY_CHECKER;
  if (choice === 'off') {
    throw new ConfigError("DEPLOY_POLICY_CHECKER=off is no longer possible: unchecked secrets would fail at every login instead; unset it (the checker is built when missing)");
  }
  if (choice) {
    const p = path.resolve(choice);
    if (!fs.existsSync(p)) throw new ConfigError(`DEPLOY_POLICY_CHECKER=${choice}: no such file (the \`policy\` executable that checks the Action's secrets)`);
    return p;
  }
  const bin = path.join(ROOT, 'target/release/policy');
  const built = fs.existsSync(bin) ? fs.statSync(bin).mtimeMs : -1;
  if (built >= 0 && !['src', 'Cargo.toml', 'Cargo.lock'].some((p) => newestMtime(path.join(ROOT, p)) > built)) return bin;
  const cargo = [path.join(os.homedir(), '.cargo/bin/cargo')].find((c) => fs.existsSync(c)) || 'cargo';
  const command = 'cargo build --release --features cli --bin policy';
  log(`${built >= 0 ? 'target/release/policy is older than its sources' : 'target/release/policy is missing'}: building the secrets checker (${command})`);
  const r = spawnSync(cargo, ['build', '--quiet', '--release', '--features', 'cli', '--bin', 'policy'], { cwd: ROOT, stdio: ['ignore', 2, 2], timeout: 900000 });
  if (r.status !== 0 || !fs.existsSync(bin)) {
    throw new ConfigError(`cannot check the Action's secrets: \`${command}\` ${r.error ? `could not run (${r.error.code || r.error.message})` : `failed (exit ${r.status})`}; ` +
      'it needs Rust (bash pkg-scripts/install-tools.sh sets up the rest), or set DEPLOY_POLICY_CHECKER to a built `policy` executable');
  }
  return bin;
}

/**
 * Checks secrets ({NAME: value}) with `policy check-secrets`, the checks the Action runs at
 * every login, so the tools accept exactly what the Action accepts (no rules of their own).
 * requireCredentials false: only the secrets given are checked. `label(NAME)` says where the
 * value came from. Returns the report ({origin, timeout_ms, policy_rules, notes, checker});
 * throws a ConfigError naming every bad secret (names and JSON paths, never a value).
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

/** The deployer: an M2M application with read:actions, create:actions, update:actions. */
function deployerConfig(env, { log } = {}) {
  const domain = required(env, 'AUTH0_DOMAIN', 'the tenant to deploy to, e.g. example.eu.auth0.com');
  // The Action's own origin rule (https implied, http only on loopback), so both agree.
  const { origin } = checkSecrets({ AUTH0_DOMAIN: domain }, {
    requireCredentials: false, env, log, what: "the deployer's tenant", label: () => 'AUTH0_DOMAIN (the tenant to deploy to)',
  });
  return {
    domain,
    origin,
    clientId: required(env, 'AUTH0_CLIENT_ID', "the deployer application's client id"),
    clientSecret: required(env, 'AUTH0_CLIENT_SECRET', "the deployer application's client secret"),
  };
}

/**
 * The policy: `--policy FILE`, else POLICY (inline JSON when it starts with `{`, else a file
 * path). Returns {text (compact JSON, the secret's value), source} or null when none is
 * given. Only JSON syntax is checked here (to compact it); `checkSecrets` validates it with
 * the Action's policy parser and the secret size limit.
 */
function loadPolicy(env, policyFile) {
  let raw;
  let source;
  if (policyFile) {
    source = policyFile;
    raw = readPolicyFile(policyFile, '--policy');
  } else if (env.POLICY !== undefined && String(env.POLICY).trim() !== '') {
    const v = String(env.POLICY).trim();
    if (v.startsWith('{') || v.startsWith('[')) {
      source = 'POLICY (inline)';
      raw = v;
    } else {
      source = v;
      raw = readPolicyFile(v, 'POLICY');
    }
  } else {
    return null;
  }
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(`${source}: the policy is not valid JSON (${e.message})`);
  }
  return { text: JSON.stringify(parsed), source };
}

function readPolicyFile(file, what) {
  try {
    return fs.readFileSync(path.resolve(file), 'utf8');
  } catch (e) {
    throw new ConfigError(`${what} ${file}: cannot read the policy file (${e.code || e.message})`);
  }
}

/** TIMEOUT_MS as given (trimmed), or null: an empty variable is not set. The Action's rule is in checkSecrets. */
function configuredTimeout(env) {
  if (env.TIMEOUT_MS === undefined || String(env.TIMEOUT_MS).trim() === '') return null;
  return String(env.TIMEOUT_MS).trim();
}

/** How the checker's messages name a secret: by the variable it came from. */
function policyLabel(policy) {
  return policy && !policy.source.startsWith('POLICY') ? `POLICY (from ${policy.source})` : 'POLICY';
}

/**
 * The Action's secrets, in a fixed order: AUTH0_DOMAIN (PROVISION_DOMAIN, else the
 * deployer's AUTH0_DOMAIN), AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET (PROVISION_CLIENT_ID /
 * PROVISION_CLIENT_SECRET), POLICY and TIMEOUT_MS when given; all checked by checkSecrets.
 */
function actionSecrets(env, { policyFile, log = () => {} } = {}) {
  const domainVar = env.PROVISION_DOMAIN && String(env.PROVISION_DOMAIN).trim() ? 'PROVISION_DOMAIN' : 'AUTH0_DOMAIN';
  const domain = required(env, domainVar, 'the tenant; or set PROVISION_DOMAIN for the Action');
  const secrets = [
    { name: 'AUTH0_DOMAIN', value: domain },
    { name: 'AUTH0_CLIENT_ID', value: required(env, 'PROVISION_CLIENT_ID', "the provisioning application's client id, the Action's AUTH0_CLIENT_ID") },
    { name: 'AUTH0_CLIENT_SECRET', value: required(env, 'PROVISION_CLIENT_SECRET', "the provisioning application's client secret, the Action's AUTH0_CLIENT_SECRET") },
  ];
  const policy = loadPolicy(env, policyFile);
  if (policy) secrets.push({ name: 'POLICY', value: policy.text });
  const t = configuredTimeout(env);
  if (t) secrets.push({ name: 'TIMEOUT_MS', value: t });
  const from = { AUTH0_DOMAIN: domainVar, AUTH0_CLIENT_ID: 'PROVISION_CLIENT_ID', AUTH0_CLIENT_SECRET: 'PROVISION_CLIENT_SECRET' };
  const label = (n) => (n === 'POLICY' ? policyLabel(policy) : from[n] && from[n] !== n ? `${from[n]} (the Action's ${n})` : n);
  const checked = checkSecrets(Object.fromEntries(secrets.map((s) => [s.name, s.value])), { env, log, label });
  return { secrets, policy, checked };
}

/** Fingerprint of the secrets sent (names and values): stored in the code, since Auth0 never returns secret values. */
function secretsFingerprint(secrets) {
  const canonical = JSON.stringify(secrets.map((s) => [s.name, s.value]).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  return crypto.createHash('sha256').update('auth0-provision deploy secrets v1\0').update(canonical).digest('hex').slice(0, 32);
}

/** The code deploy.js sends: the built file plus one comment line carrying the secrets' fingerprint. */
function codeWithFingerprint(code, secrets) {
  return `${code.endsWith('\n') ? code : code + '\n'}/* deployed by npm run deploy; secrets fingerprint ${secretsFingerprint(secrets)} */\n`;
}

function newestMtime(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch (_) {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/** Whether dist/action.js is missing or older than any of its sources. */
function isStale(file = DEFAULT_ACTION) {
  if (!fs.existsSync(file)) return true;
  const built = fs.statSync(file).mtimeMs;
  return BUILD_INPUTS.some((p) => newestMtime(path.join(ROOT, p)) > built);
}

/**
 * The Action code: `file` (default dist/action.js), rebuilt first with `node
 * pkg-scripts/build.js` when it is the default file and stale, unless noBuild. Refuses a
 * file over 100 kB or one without the trigger handlers.
 */
function loadCode({ file, noBuild = false, log = console.error, triggers = Object.keys(TRIGGERS) } = {}) {
  const target = file ? path.resolve(file) : DEFAULT_ACTION;
  if (!file && isStale(target)) {
    if (noBuild) {
      if (!fs.existsSync(target)) throw new ConfigError(`${path.relative(ROOT, target)} is missing and --no-build was given: run \`npm run build\``);
      log(`warning: ${path.relative(ROOT, target)} is older than its sources (--no-build: using it anyway)`);
    } else {
      log(`${fs.existsSync(target) ? 'dist/action.js is older than its sources' : 'dist/action.js is missing'}: running node pkg-scripts/build.js`);
      try {
        execFileSync(process.execPath, [path.join(ROOT, 'pkg-scripts/build.js')], { cwd: ROOT, stdio: ['ignore', 2, 2] });
      } catch (e) {
        throw new ConfigError(`the build failed (exit ${e.status}); see above`);
      }
    }
  }
  let code;
  try {
    code = fs.readFileSync(target, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the Action code ${target} (${e.code || e.message})`);
  }
  const size = Buffer.byteLength(code);
  if (size > CODE_LIMIT) throw new ConfigError(`${path.basename(target)} is ${size} bytes: Auth0 takes at most ${CODE_LIMIT} bytes of Action code`);
  for (const t of triggers) {
    const h = TRIGGERS[t].handler;
    if (!code.includes(h)) throw new ConfigError(`${path.basename(target)} does not export ${h} (needed for ${t})`);
  }
  return { code, file: target, size };
}

/** One Action per trigger (Auth0: an Action targets a single trigger): post-login gets NAME, others NAME-<trigger>. */
function actionName(base, trigger) {
  return trigger === 'post-login' ? base : `${base}-${trigger}`;
}

function checkName(name) {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$/.test(name)) {
    throw new UsageError(`--name ${JSON.stringify(name)}: use 1-60 letters, digits, '.', '_' or '-' (starting with a letter or digit)`);
  }
  return name;
}

/** Minimal argv parser: flags (boolean), options with a value (repeatable ones collect), positionals. */
function parseArgs(argv, { flags = [], options = [], repeatable = [] }) {
  const out = { _: [] };
  for (const r of repeatable) out[r] = [];
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline;
    if (a.startsWith('--') && a.includes('=')) [a, inline] = [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)];
    if (flags.includes(a)) {
      if (inline !== undefined) throw new UsageError(`${a} takes no value`);
      out[a] = true;
    } else if (options.includes(a) || repeatable.includes(a)) {
      const v = inline !== undefined ? inline : argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${a} needs a value`);
      if (repeatable.includes(a)) out[a].push(v);
      else out[a] = v;
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown option ${a}`);
    } else {
      out._.push(a);
    }
  }
  return out;
}

function triggersOf(list) {
  const ts = list.length ? [...new Set(list)] : ['post-login'];
  for (const t of ts) {
    if (!TRIGGERS[t]) throw new UsageError(`--trigger ${t}: must be one of ${Object.keys(TRIGGERS).join(', ')}`);
  }
  return ts;
}

module.exports = {
  ROOT, DEFAULT_ACTION, CODE_LIMIT, RUNTIME, DEFAULT_NAME, TRIGGERS,
  UsageError, ConfigError,
  parseEnvFile, loadEnv, checkSecrets, configuredTimeout, policyLabel, deployerConfig, loadPolicy, actionSecrets, secretsFingerprint,
  codeWithFingerprint, isStale, loadCode, actionName, checkName, parseArgs, triggersOf,
};
