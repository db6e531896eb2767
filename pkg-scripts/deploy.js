#!/usr/bin/env node
'use strict';
// npm run deploy: creates or updates the Action through the Management API, deploys it and
// binds it to its trigger(s), keeping every other binding. Idempotent. --dry-run sends no
// request at all and prints every request a real run would send (its branches included);
// --plan sends the token request and GETs only, and prints the exact changes. Node
// built-ins only (global fetch): Node 18, 20, 22.
const crypto = require('node:crypto');
const path = require('node:path');
const cfg = require('./deploy/config.js');
const { UsageError, ConfigError, USAGE_EXIT } = require('./lib/errors.js');
const { parseArgs, usageMessage } = require('./lib/args.js');
const { loadEnv } = require('./lib/env.js');
const { loadCode, CODE_LIMIT } = require('./lib/action-code.js');
const { RUNTIME, DEFAULT_NAME, TRIGGERS, actionName, checkName, triggersOf } = require('./lib/triggers.js');
const { Management, ApiError, Redactor, queryString, MAX_ATTEMPTS } = require('./deploy/client.js');

const USAGE = `Usage: npm run deploy -- [options]

Creates or updates the Action, deploys it and binds it to the trigger (appended after the
Actions already bound, which are kept). A second run with nothing changed sends no change.

Options:
  --trigger T       post-login (default) or post-user-registration; repeat for both. Auth0
                    Actions target one trigger each: post-login gets NAME, the other
                    NAME-post-user-registration.
  --name NAME       the Action's name (default ${DEFAULT_NAME})
  --env-file FILE   read variables from FILE (default .env; the environment wins)
  --policy FILE     the POLICY secret from FILE (overrides POLICY)
  --dry-run         send no request at all (not even the token request): print, in order,
                    every request a real run would send, with the branches that depend on
                    the tenant (secret values as ***, the code as bytes + sha256)
  --plan            read only: request a token and GET the Action and the bindings, then
                    print the exact changes a real run would send (secrets as ***)
  --undeploy        remove our binding(s), keep every other binding and the Action itself
  --no-build        do not rebuild a stale dist/action.js
  --action FILE     deploy FILE instead of dist/action.js (never rebuilt)
  --wait SECONDS    how long to wait for Auth0 to build the Action (default 30)
  --verbose         print every HTTP request

Environment (or .env):
  AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET
      the tenant and the deployer application (Management API scopes read:actions,
      create:actions, update:actions)
  PROVISION_CLIENT_ID, PROVISION_CLIENT_SECRET
      the provisioning application: become the Action's AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET
  PROVISION_DOMAIN  optional: the Action's AUTH0_DOMAIN (default AUTH0_DOMAIN)
  POLICY            optional: the policy, inline JSON or a path to a JSON file
  TIMEOUT_MS        optional: the Action's TIMEOUT_MS
  DEPLOY_POLICY_CHECKER  optional: the \`policy\` executable that checks the Action's
                    secrets (\`policy check-secrets\`, the Action's own checks); default
                    target/release/policy, built with cargo when missing or stale
`;

const { FINGERPRINT_RE } = cfg;
const PAGE = 50;

const actionsQuery = (name, page) => ({ actionName: name, page, per_page: PAGE });
const bindingsQuery = (page) => ({ page, per_page: PAGE });

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

class Deployer {
  constructor({ mgmt, say, waitMs, sleep }) {
    Object.assign(this, { mgmt, say, waitMs });
    this.sleep = sleep || ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async findAction(name) {
    let seen = 0;
    for (let page = 0; page < 100; page++) {
      const r = await this.mgmt.call('GET', '/api/v2/actions/actions', { query: actionsQuery(name, page) });
      const list = (r && Array.isArray(r.actions)) ? r.actions : [];
      const hit = list.find((a) => a.name === name);
      if (hit) return this.mgmt.call('GET', `/api/v2/actions/actions/${encodeURIComponent(hit.id)}`);
      seen += list.length;
      if (!list.length || (typeof r.total === 'number' ? seen >= r.total : list.length < PAGE)) return null;
    }
    return null;
  }

  async listBindings(trigger) {
    const all = [];
    for (let page = 0; page < 100; page++) {
      const r = await this.mgmt.call('GET', `/api/v2/actions/triggers/${trigger}/bindings`, { query: bindingsQuery(page) });
      const list = (r && Array.isArray(r.bindings)) ? r.bindings : [];
      all.push(...list);
      if (!list.length || (typeof r.total === 'number' ? all.length >= r.total : list.length < PAGE)) break;
    }
    return all;
  }

  /** The body of the update (PATCH); the create (POST) adds the name. */
  static actionBody(desired) {
    return {
      code: desired.code,
      runtime: desired.runtime,
      dependencies: [],
      secrets: desired.secrets,
      supported_triggers: desired.supported_triggers,
    };
  }

  /** A binding as re-sent in the bindings PATCH. */
  static bindingRef(id, displayName) {
    return { ref: { type: 'action_id', value: id }, display_name: displayName };
  }

  /** What differs between the Action on the tenant and the one we deploy. */
  static changes(existing, desired) {
    const out = [];
    const code = existing.code || '';
    const m = FINGERPRINT_RE.exec(code);
    const base = m ? code.slice(0, m.index) : code;
    if (base !== desired.baseCode) out.push('code');
    const names = (l) => (l || []).map((s) => s.name).sort().join('\n');
    if (names(existing.secrets) !== names(desired.secrets) || !m || m[1] !== desired.fingerprint) out.push('secrets');
    if (existing.runtime !== desired.runtime) out.push('runtime');
    if ((existing.dependencies || []).length) out.push('dependencies');
    const trig = (l) => (l || []).map((t) => `${t.id}@${t.version}`).join(',');
    if (trig(existing.supported_triggers) !== trig(desired.supported_triggers)) out.push('supported_triggers');
    return out;
  }

  /** Reads the tenant and decides what to send for one trigger. */
  async plan(trigger, name, desired) {
    const existing = await this.findAction(name);
    const bindings = await this.listBindings(trigger);
    const p = { trigger, name, existing, bindings, steps: [] };
    const id = existing ? existing.id : null;
    const body = Deployer.actionBody(desired);
    if (!existing) {
      p.steps.push({ kind: 'create', method: 'POST', path: '/api/v2/actions/actions', body: { name, ...body } });
      p.steps.push({ kind: 'deploy' });
    } else {
      p.changes = Deployer.changes(existing, desired);
      if (p.changes.length) {
        p.steps.push({ kind: 'update', method: 'PATCH', path: `/api/v2/actions/actions/${id}`, body });
        p.steps.push({ kind: 'deploy' });
      } else if (!existing.all_changes_deployed || !existing.deployed_version) {
        p.steps.push({ kind: 'deploy' });
      } else if (existing.deployed_version.status !== 'built') {
        p.steps.push({ kind: 'wait-deployed', versionId: existing.deployed_version.id });
      }
    }
    const ours = bindings.filter((b) => b.action && (b.action.id === id || b.action.name === name));
    if (!ours.length) {
      for (const b of bindings) {
        if (!b.action || !b.action.id) throw new ConfigError(`a ${trigger} binding (${b.display_name || b.id}) has no action id: refusing to rewrite the bindings`);
      }
      p.steps.push({
        kind: 'bind',
        method: 'PATCH',
        path: `/api/v2/actions/triggers/${trigger}/bindings`,
        body: {
          bindings: [
            ...bindings.map((b) => Deployer.bindingRef(b.action.id, b.display_name)),
            Deployer.bindingRef(id || '<id of the new action>', name),
          ],
        },
      });
    }
    return p;
  }

  async planUndeploy(trigger, name) {
    const existing = await this.findAction(name);
    const bindings = await this.listBindings(trigger);
    const id = existing ? existing.id : null;
    const isOurs = (b) => b.action && (b.action.id === id || b.action.name === name);
    const p = { trigger, name, existing, bindings, steps: [] };
    if (bindings.some(isOurs)) {
      const kept = bindings.filter((b) => !isOurs(b));
      for (const b of kept) {
        if (!b.action || !b.action.id) throw new ConfigError(`a ${trigger} binding (${b.display_name || b.id}) has no action id: refusing to rewrite the bindings`);
      }
      p.kept = kept.map((b) => b.display_name || b.action.name);
      p.steps.push({
        kind: 'unbind',
        method: 'PATCH',
        path: `/api/v2/actions/triggers/${trigger}/bindings`,
        body: { bindings: kept.map((b) => Deployer.bindingRef(b.action.id, b.display_name)) },
      });
    }
    return p;
  }

  static scopesOf(steps) {
    const s = [];
    for (const st of steps) {
      if (st.kind === 'create' || st.kind === 'deploy') s.push('create:actions');
      if (st.kind === 'update' || st.kind === 'bind' || st.kind === 'unbind') s.push('update:actions');
    }
    return s;
  }

  printPlan(p) {
    const label = `${p.name} (${p.trigger})`;
    if (!p.steps.length) return;
    for (const st of p.steps) {
      if (st.kind === 'deploy') {
        const id = p.existing ? p.existing.id : '<id of the new action>';
        this.say(`  would send POST /api/v2/actions/actions/${id}/deploy (once Auth0 has built the Action), then wait for the version to be built`);
      } else if (st.kind === 'wait-deployed') {
        this.say(`  would wait for the deployed version ${st.versionId} to be built`);
      } else {
        this.say(`  would send ${st.method} ${st.path}`);
        this.say(`    ${shown(st.body)}`);
      }
    }
    return label;
  }

  /** Polls the Action until `done(action)` is true; bounded by --wait. */
  async poll(id, what, done) {
    const deadline = Date.now() + this.waitMs;
    const delays = [250, 500, 1000, 2000];
    for (let i = 0; ; i++) {
      const a = await this.mgmt.call('GET', `/api/v2/actions/actions/${encodeURIComponent(id)}`);
      const r = done(a);
      if (r) return a;
      const wait = delays[Math.min(i, delays.length - 1)];
      if (Date.now() + wait > deadline) {
        throw new ConfigError(`timed out after ${Math.round(this.waitMs / 1000)} s waiting for ${what}; re-run later (it is idempotent) or raise --wait`);
      }
      await this.sleep(wait);
    }
  }

  async waitBuilt(id, action) {
    const check = (a) => {
      if (a.status === 'failed') throw new ConfigError(`Auth0 failed to build the Action ${a.name} (status failed)`);
      return a.status === 'built';
    };
    if (action && check(action)) return action;
    return this.poll(id, 'Auth0 to build the Action', check);
  }

  async waitDeployed(id, versionId) {
    return this.poll(id, `version ${versionId} to be built`, (a) => {
      const v = a.deployed_version;
      if (!v || v.id !== versionId) return false;
      if (v.status === 'failed') {
        const why = (v.errors || []).map((e) => e.msg).filter(Boolean).join('; ');
        throw new ConfigError(`Auth0 failed to build the deployed version ${v.number || v.id}${why ? ': ' + why : ''}`);
      }
      return v.status === 'built';
    });
  }

  async deploy(id) {
    const deadline = Date.now() + this.waitMs;
    for (let i = 0; ; i++) {
      try {
        return await this.mgmt.call('POST', `/api/v2/actions/actions/${encodeURIComponent(id)}/deploy`);
      } catch (e) {
        // Auth0 refuses to deploy an Action still being built ("must be in the 'built' state").
        if (!(e instanceof ApiError) || e.status !== 400 || !/built/i.test(e.apiMessage || '') || Date.now() + 1000 > deadline) throw e;
        this.say(`  not built yet; retrying the deploy in 1 s`);
        await this.sleep(1000);
      }
    }
  }

  async apply(p) {
    let id = p.existing ? p.existing.id : null;
    let deployed = false;
    for (const st of p.steps) {
      if (st.kind === 'create') {
        let a;
        try {
          a = await this.mgmt.call('POST', st.path, { body: st.body });
          this.say(`  created the Action ${p.name} (id ${a.id})`);
        } catch (e) {
          // A create that timed out may have succeeded: the retry then meets our own Action.
          if (!(e instanceof ApiError) || e.status !== 409) throw e;
          const found = await this.findAction(p.name);
          if (!found) throw e;
          const { name: _n, ...body } = st.body;
          a = await this.mgmt.call('PATCH', `/api/v2/actions/actions/${found.id}`, { body });
          this.say(`  the Action ${p.name} already existed (id ${found.id}): updated it`);
        }
        id = a.id;
        await this.waitBuilt(id, a);
      } else if (st.kind === 'update') {
        const a = await this.mgmt.call('PATCH', st.path, { body: st.body });
        this.say(`  updated the Action ${p.name} (${p.changes.join(', ')})`);
        await this.waitBuilt(id, a);
      } else if (st.kind === 'deploy') {
        if (!p.steps.some((x) => x.kind === 'create' || x.kind === 'update')) await this.waitBuilt(id, p.existing);
        const v = await this.deploy(id);
        await this.waitDeployed(id, v.id);
        deployed = true;
        this.say(`  deployed version ${v.number !== undefined ? v.number : v.id} (built)`);
      } else if (st.kind === 'wait-deployed') {
        await this.waitDeployed(id, st.versionId);
        this.say('  the deployed version is now built');
      } else if (st.kind === 'bind' || st.kind === 'unbind') {
        const body = JSON.parse(JSON.stringify(st.body));
        if (st.kind === 'bind') body.bindings[body.bindings.length - 1].ref.value = id;
        await this.patchBindings(st.path, body, deployed);
        const names = body.bindings.map((b) => b.display_name);
        if (st.kind === 'bind') this.say(`  bound to ${p.trigger}: ${names.join(' → ')}`);
        else this.say(`  unbound from ${p.trigger}; kept: ${names.length ? names.join(' → ') : '(none)'}`);
      }
    }
  }

  async patchBindings(pathname, body, justDeployed) {
    for (let i = 0; ; i++) {
      try {
        return await this.mgmt.call('PATCH', pathname, { body });
      } catch (e) {
        // Auth0 can take a few seconds to accept a binding to an Action it has just deployed.
        if (!justDeployed || !(e instanceof ApiError) || e.status !== 400 || i >= 3) throw e;
        this.say(`  the binding was refused (${e.apiMessage || 'HTTP 400'}); retrying in ${2 ** i} s`);
        await this.sleep(1000 * 2 ** i);
      }
    }
  }
}

/**
 * --dry-run: every request a real run would send, in the order it sends them, without
 * sending any. What the tenant holds is unknown, so the requests that depend on it are
 * printed as the branches a real run takes. Secret values are ***, the code is summarised.
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
    const current = `…the current ${trigger} bindings, in order, each as ${JSON.stringify(Deployer.bindingRef('<its action id>', '<its display name>'))}…`;
    if (undeploy) {
      step(`if ${name} is bound to ${trigger}: ${bindings} {"bindings":[${current}]} — the current bindings minus ours, the others kept in order`);
      more(`otherwise: nothing (not bound — nothing to undeploy); the Action itself is never changed`);
      continue;
    }
    const d = { ...desired, supported_triggers: [{ id: trigger, version: TRIGGERS[trigger].version }] };
    const body = Deployer.actionBody(d);
    step(`if no Action named ${name} exists: POST /api/v2/actions/actions ${shown({ name, ...body })}`);
    more(`(a 409 there — an earlier create that timed out had succeeded — is followed by the GETs that find the Action by name and the PATCH below)`);
    more(`otherwise, if its code or secrets (or runtime, dependencies, supported_triggers) differ: PATCH ${actionPath} ${shown(body)}`);
    more('otherwise: no change to the Action');
    step(`after a create or an update, or when its latest change was never deployed: GET ${actionPath} until Auth0 has built it ` +
      `(unless the create/update answered "built"), then POST ${actionPath}/deploy (again each second while Auth0 answers 400 "not built"), ` +
      `then poll GET ${actionPath} until the deployed version is built (≤ ${waitS} s)`);
    more(`otherwise, when the deployed version is still being built: poll GET ${actionPath} until it is built`);
    step(`if ${name} is not bound to ${trigger} yet: ${bindings} {"bindings":[${current},${JSON.stringify(Deployer.bindingRef(ID, name))}]} — ` +
      'the current bindings plus ours (appended once); the bindings API replaces the whole list (retried up to 3 times on a 400 just after a deploy)');
    more('otherwise: no change to the bindings');
  }
  return out;
}

async function main(argv, { stdout = process.stdout, stderr = process.stderr, env = process.env } = {}) {
  const redactor = new Redactor();
  const say = (l) => stdout.write(redactor.text(l) + '\n');
  const warn = (l) => stderr.write(redactor.text(l) + '\n');
  try {
    const { values: args } = parseArgs(argv, {
      'dry-run': { type: 'boolean' }, plan: { type: 'boolean' }, 'no-build': { type: 'boolean' }, undeploy: { type: 'boolean' },
      verbose: { type: 'boolean' }, help: { type: 'boolean' },
      'env-file': { type: 'string' }, name: { type: 'string' }, policy: { type: 'string' }, action: { type: 'string' }, wait: { type: 'string' },
      trigger: { type: 'string', multiple: true },
    });
    if (args.help) {
      stdout.write(USAGE);
      return 0;
    }
    const triggers = triggersOf(args.trigger);
    const base = checkName(args.name || DEFAULT_NAME);
    const waitS = args.wait === undefined ? 30 : Number(args.wait);
    if (!Number.isFinite(waitS) || waitS <= 0 || waitS > 600) throw new UsageError('--wait must be a number of seconds (0 < s ≤ 600)');
    const dryRun = !!args['dry-run'];
    const planOnly = !!args.plan;
    if (dryRun && planOnly) throw new UsageError('--dry-run and --plan exclude each other (--dry-run sends nothing; --plan only reads)');
    const undeploy = !!args.undeploy;

    const allEnv = loadEnv(args['env-file'] || '.env', { explicit: args['env-file'] !== undefined, env });
    for (const k of ['AUTH0_CLIENT_SECRET', 'PROVISION_CLIENT_SECRET']) redactor.add(allEnv[k]);
    const deployer = cfg.deployerConfig(allEnv, { log: warn });

    // Everything is checked before the first request.
    let desired = null;
    if (!undeploy) {
      const { secrets, policy, checked } = cfg.actionSecrets(allEnv, { policyFile: args.policy, log: warn });
      for (const s of secrets) if (s.name !== 'AUTH0_DOMAIN' && s.name !== 'AUTH0_CLIENT_ID') redactor.add(s.value);
      if (!policy) warn('warning: no POLICY given: the Action will run with the policy baked into its code (npm run build -- --policy FILE), if any');
      const { code, file, size } = loadCode({ file: args.action, noBuild: !!args['no-build'], log: warn, triggers });
      const full = cfg.codeWithFingerprint(code, secrets);
      if (Buffer.byteLength(full) > CODE_LIMIT) throw new ConfigError(`the code is ${Buffer.byteLength(full)} bytes with its fingerprint line: over Auth0's ${CODE_LIMIT}`);
      desired = {
        baseCode: code.endsWith('\n') ? code : code + '\n',
        code: full,
        secrets,
        fingerprint: cfg.secretsFingerprint(secrets),
        runtime: RUNTIME,
      };
      say(`code: ${path.relative(process.cwd(), file) || file} (${size} bytes); secrets: ${secrets.map((s) => s.name).join(', ')}` +
        `${policy ? ` (POLICY from ${policy.source}, ${policy.text.length} chars, ${checked.policy_rules} rule(s))` : ''}; ` +
        `checked by \`policy check-secrets\` (${checked.checker}): deadline ${checked.timeout_ms} ms`);
    }

    const mgmt = new Management({ ...deployer, say, verbose: !!args.verbose, redactor });
    const d = new Deployer({ mgmt, say, waitMs: waitS * 1000 });
    say(`tenant: ${deployer.origin} (deployer ${deployer.clientId})${dryRun ? ' — dry run: no request is sent' : planOnly ? ' — plan: reads only' : ''}`);
    if (dryRun) {
      for (const l of dryRunLines({ tokenBody: mgmt.tokenRequestBody(), triggers, base, desired, undeploy, waitS })) say(l);
      say('dry run: sent no request (not even the token request); `--plan` reads the tenant and prints the exact changes');
      return 0;
    }
    await mgmt.authenticate();
    const missingRead = mgmt.missingScopes(['read:actions']);
    if (missingRead.length) throw new ConfigError(`the deployer application lacks the scope read:actions (its token grants: ${mgmt.scopes.join(' ') || 'nothing'})`);

    const plans = [];
    for (const trigger of triggers) {
      const name = actionName(base, trigger);
      plans.push(undeploy ? await d.planUndeploy(trigger, name)
        : await d.plan(trigger, name, { ...desired, supported_triggers: [{ id: trigger, version: TRIGGERS[trigger].version }] }));
    }
    const needed = plans.flatMap((p) => Deployer.scopesOf(p.steps));
    const missing = mgmt.missingScopes(needed);
    if (missing.length) {
      throw new ConfigError(`the deployer application lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
        `(needed to ${missing.includes('create:actions') ? 'create or deploy' : 'update or bind'} the Action); its token grants: ${mgmt.scopes.join(' ')}. ` +
        'Grant it in Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications. Nothing was changed.');
    }

    let changed = 0;
    for (const p of plans) {
      const label = `${p.name} (${p.trigger})`;
      if (!p.steps.length) {
        if (undeploy) say(`${label}: not bound — nothing to undeploy`);
        else say(`${label}: up to date, deployed (version ${p.existing.deployed_version.number}) and bound — nothing to change`);
        continue;
      }
      changed++;
      if (planOnly) {
        say(`${label}: ${undeploy ? 'would unbind' : p.existing ? `would update (${(p.changes || []).join(', ') || 'deploy only'})` : 'would create'}`);
        d.printPlan(p);
      } else {
        say(`${label}:`);
        await d.apply(p);
      }
    }
    const writes = mgmt.sent.filter((r) => r.method !== 'GET' && r.path !== '/oauth/token').length;
    if (planOnly) say(`plan: nothing was changed (sent only the token request and ${mgmt.sent.filter((r) => r.method === 'GET').length} GETs)`);
    else if (!changed) say(`nothing to change: only reads were sent`);
    else say(`done: ${writes} change request${writes === 1 ? '' : 's'} sent`);
    if (undeploy && !planOnly && changed) say('the Action itself is kept (delete it in the dashboard if it is no longer wanted)');
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      warn(usageMessage('deploy', e.message, USAGE));
      return USAGE_EXIT;
    }
    if (e instanceof ConfigError || e instanceof ApiError) {
      warn(`deploy failed: ${e.message}`);
      if (e instanceof ApiError && e.status !== 401 && e.status !== 403) warn('(re-running is safe: it picks up where this run stopped)');
      return 1;
    }
    warn(`deploy failed: ${e && e.stack ? e.stack : e}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}

module.exports = { main, Deployer };
