'use strict';
// Only prints: a plan (plan.js) as `--plan` shows it, the branches of every request a real
// run may send as `--dry-run` shows them, and each Action's headline. Secret values are
// always `***` and the code is summarised as bytes + sha256.
const crypto = require('node:crypto');
const { queryString, MAX_ATTEMPTS } = require('./client.js');
const { actionsQuery, bindingsQuery } = require('./read.js');
const { NEW_ACTION_ID, desiredFor, actionBody, bindingRef } = require('./plan.js');
const { actionName } = require('../lib/triggers.js');

function sha(s) {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/** A request body as printed: secret values masked, the code summarised. */
function shown(body) {
  if (!body || typeof body !== 'object') return '';
  const b = { ...body };
  if (typeof b.code === 'string') b.code = `<${Buffer.byteLength(b.code)} bytes, sha256 ${sha(b.code).slice(0, 16)}…>`;
  if (Array.isArray(b.secrets)) b.secrets = b.secrets.map((s) => ({ name: s.name, value: '***' }));
  return JSON.stringify(b);
}

const label = (p) => `${p.name} (${p.trigger})`;

/** The line that opens an Action's part of the output: what the plan does to it, if anything. */
function headline(p, { undeploy, planOnly }) {
  if (!p.steps.length) {
    return undeploy ? `${label(p)}: not bound — nothing to undeploy`
      : `${label(p)}: up to date, deployed (version ${p.existing.deployed_version.number}) and bound — nothing to change`;
  }
  if (!planOnly) return `${label(p)}:`;
  const what = undeploy ? 'would unbind' : p.existing ? `would update (${(p.changes || []).join(', ') || 'deploy only'})` : 'would create';
  return `${label(p)}: ${what}`;
}

/** --plan: the requests the plan's steps send, bodies included. */
function planLines(p) {
  const out = [];
  for (const st of p.steps) {
    if (st.kind === 'deploy') {
      const id = p.existing ? p.existing.id : NEW_ACTION_ID;
      out.push(`  would send POST /api/v2/actions/actions/${id}/deploy (once Auth0 has built the Action), then wait for the version to be built`);
    } else if (st.kind === 'wait-deployed') {
      out.push(`  would wait for the deployed version ${st.versionId} to be built`);
    } else {
      out.push(`  would send ${st.method} ${st.path}`);
      out.push(`    ${shown(st.body)}`);
    }
  }
  return out;
}

/**
 * --dry-run: every request a real run would send, in the order it sends them, without
 * sending any. What the tenant holds is unknown, so the requests that depend on it are
 * printed as the branches a real run takes.
 */
function dryRunLines({ tokenBody, triggers, base, desired, undeploy, waitS }) {
  const out = [];
  let n = 0;
  const step = (line) => out.push(`${++n}. ${line}`);
  const more = (line) => out.push(`   ${line}`);
  const ID = '{id}';
  const actionPath = `/api/v2/actions/actions/${ID}`;
  out.push(`the requests a real run sends, in order (${ID} is the Action's id: read, or returned by the create; ` +
    `secret values as ***; 429, 5xx and network errors retry a request, at most ${MAX_ATTEMPTS} attempts):`);
  step(`POST /oauth/token ${JSON.stringify({ ...tokenBody, client_secret: '***' })}`);
  more('(it stops there unless the token grants read:actions)');
  for (const trigger of triggers) {
    const name = actionName(base, trigger);
    out.push(`${name} (${trigger}): read`);
    step(`GET /api/v2/actions/actions${queryString(actionsQuery(name, 0))} (then page=1, 2, … while the list goes on), to find the Action named ${name}`);
    step(`if it exists: GET ${actionPath} (its code, secret names, runtime, triggers, deployed version)`);
    step(`GET /api/v2/actions/triggers/${trigger}/bindings${queryString(bindingsQuery(0))} (then page=1, 2, … while the list goes on)`);
  }
  more(`(it stops there, with nothing changed, when the token lacks the scope a change below needs: ${undeploy ? 'update:actions' : 'create:actions or update:actions'})`);
  for (const trigger of triggers) {
    const name = actionName(base, trigger);
    out.push(`${name} (${trigger}): change, if needed`);
    const bindings = `PATCH /api/v2/actions/triggers/${trigger}/bindings`;
    const current = `…the current ${trigger} bindings, in order, each as ${JSON.stringify(bindingRef('<its action id>', '<its display name>'))}…`;
    if (undeploy) {
      step(`if ${name} is bound to ${trigger}: ${bindings} {"bindings":[${current}]} — the current bindings minus ours, the others kept in order`);
      more('otherwise: nothing (not bound — nothing to undeploy); the Action itself is never changed');
      continue;
    }
    const body = actionBody(desiredFor(desired, trigger));
    step(`if no Action named ${name} exists: POST /api/v2/actions/actions ${shown({ name, ...body })}`);
    more('(a 409 there — an earlier create that timed out had succeeded — is followed by the GETs that find the Action by name and the PATCH below)');
    more(`otherwise, if its code or secrets (or runtime, dependencies, supported_triggers) differ: PATCH ${actionPath} ${shown(body)}`);
    more('otherwise: no change to the Action');
    step(`after a create or an update, or when its latest change was never deployed: GET ${actionPath} until Auth0 has built it ` +
      `(unless the create/update answered "built"), then POST ${actionPath}/deploy (again each second while Auth0 answers 400 "not built"), ` +
      `then poll GET ${actionPath} until the deployed version is built (≤ ${waitS} s)`);
    more(`otherwise, when the deployed version is still being built: poll GET ${actionPath} until it is built`);
    step(`if ${name} is not bound to ${trigger} yet: ${bindings} {"bindings":[${current},${JSON.stringify(bindingRef(ID, name))}]} — ` +
      'the current bindings plus ours (appended once); the bindings API replaces the whole list (retried up to 3 times on a 400 just after a deploy)');
    more('otherwise: no change to the bindings');
  }
  return out;
}

module.exports = { shown, headline, planLines, dryRunLines };
