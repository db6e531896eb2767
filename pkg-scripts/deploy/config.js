'use strict';
// What `npm run deploy` sends besides the code: the deployer application it authenticates
// as, and the Action's secrets (checked by the Action's own rules) with the fingerprint that
// tells a later run whether they changed. Node built-ins only.
const crypto = require('node:crypto');
const { required } = require('../lib/env.js');
const { loadPolicy, policyLabel, configuredTimeout } = require('../lib/policy-input.js');
const { checkSecrets } = require('../lib/check-secrets.js');

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

/** The line after the code that carries the fingerprint (plan.js reads it back). */
const FINGERPRINT_RE = /\/\* deployed by npm run deploy; secrets fingerprint ([0-9a-f]{32}) \*\/\n$/;

/** The code deploy.js sends: the built file plus one comment line carrying the secrets' fingerprint. */
function codeWithFingerprint(code, secrets) {
  return `${code.endsWith('\n') ? code : code + '\n'}/* deployed by npm run deploy; secrets fingerprint ${secretsFingerprint(secrets)} */\n`;
}

module.exports = { deployerConfig, actionSecrets, secretsFingerprint, codeWithFingerprint, FINGERPRINT_RE };
