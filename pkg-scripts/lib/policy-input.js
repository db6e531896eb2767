'use strict';
// Where a policy comes from: a file (`--policy FILE`, a POLICY that names a file) or inline
// JSON in POLICY. Only its JSON syntax is checked here, to compact it: the Action's own
// parser (`policy check-secrets`, check-secrets.js) judges the rest.
const fs = require('node:fs');
const path = require('node:path');
const { ConfigError } = require('./errors.js');

/** The policy file's text; `what` names where the path came from (`--policy`, `POLICY`). */
function readPolicyFile(file, what) {
  try {
    return fs.readFileSync(path.resolve(file), 'utf8');
  } catch (e) {
    throw new ConfigError(`${what} ${file}: cannot read the policy file (${e.code || e.message})`);
  }
}

/** The policy as compact JSON (the value the Action receives); `source` names it in the error. */
function compactPolicy(raw, source) {
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(`${source}: the policy is not valid JSON (${e.message})`);
  }
  return JSON.stringify(parsed);
}

/**
 * The policy: `--policy FILE`, else POLICY (inline JSON when it starts with `{` or `[`, else
 * a file path). Returns {text (compact JSON, the secret's value), source} or null when none
 * is given.
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
  return { text: compactPolicy(raw, source), source };
}

/** How the checker's messages name the policy: by the variable it came from. */
function policyLabel(policy) {
  return policy && !policy.source.startsWith('POLICY') ? `POLICY (from ${policy.source})` : 'POLICY';
}

/** TIMEOUT_MS as given (trimmed), or null: an empty variable is not set. Its rule is the Action's (checkSecrets). */
function configuredTimeout(env) {
  if (env.TIMEOUT_MS === undefined || String(env.TIMEOUT_MS).trim() === '') return null;
  return String(env.TIMEOUT_MS).trim();
}

module.exports = { readPolicyFile, compactPolicy, loadPolicy, policyLabel, configuredTimeout };
