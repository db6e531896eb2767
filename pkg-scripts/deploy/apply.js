'use strict';
// Carries out a plan (plan.js) through the Management API client, step by step: waits for
// Auth0's builds, retries what Auth0 refuses only for a while (a deploy before the build is
// done, a binding just after a deploy) and says what it did. It decides nothing the plan
// has not decided, except how to recover from a create that had already succeeded.
const { ApiError } = require('./client.js');
const { DeployError } = require('../lib/errors.js');
const { findAction } = require('./read.js');

const POLL_DELAYS_MS = [250, 500, 1000, 2000];

class Applier {
  /** mgmt: the client; say: line printer; waitMs: the --wait bound of every build wait; sleep: for tests. */
  constructor({ mgmt, say, waitMs, sleep }) {
    Object.assign(this, { mgmt, say, waitMs });
    this.sleep = sleep || ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Polls the Action until `done(action)` is true; bounded by --wait. */
  async poll(id, what, done) {
    const deadline = Date.now() + this.waitMs;
    for (let i = 0; ; i++) {
      const a = await this.mgmt.call('GET', `/api/v2/actions/actions/${encodeURIComponent(id)}`);
      if (done(a)) return a;
      const wait = POLL_DELAYS_MS[Math.min(i, POLL_DELAYS_MS.length - 1)];
      if (Date.now() + wait > deadline) {
        throw new DeployError(`timed out after ${Math.round(this.waitMs / 1000)} s waiting for ${what}; re-run later (it is idempotent) or raise --wait`);
      }
      await this.sleep(wait);
    }
  }

  async waitBuilt(id, action) {
    const check = (a) => {
      if (a.status === 'failed') throw new DeployError(`Auth0 failed to build the Action ${a.name} (status failed)`);
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
        throw new DeployError(`Auth0 failed to build the deployed version ${v.number || v.id}${why ? ': ' + why : ''}`);
      }
      return v.status === 'built';
    });
  }

  async deploy(id) {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      try {
        return await this.mgmt.call('POST', `/api/v2/actions/actions/${encodeURIComponent(id)}/deploy`);
      } catch (e) {
        // Auth0 refuses to deploy an Action still being built ("must be in the 'built' state").
        if (!(e instanceof ApiError) || e.status !== 400 || !/built/i.test(e.apiMessage || '') || Date.now() + 1000 > deadline) throw e;
        this.say('  not built yet; retrying the deploy in 1 s');
        await this.sleep(1000);
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

  /** The create step; a 409 means an earlier create that timed out had succeeded: that Action is updated instead. */
  async create(p, st) {
    try {
      const a = await this.mgmt.call('POST', st.path, { body: st.body });
      this.say(`  created the Action ${p.name} (id ${a.id})`);
      return a;
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 409) throw e;
      const found = await findAction(this.mgmt, p.name);
      if (!found) throw e;
      const { name: _name, ...body } = st.body;
      const a = await this.mgmt.call('PATCH', `/api/v2/actions/actions/${found.id}`, { body });
      this.say(`  the Action ${p.name} already existed (id ${found.id}): updated it`);
      return a;
    }
  }

  async apply(p) {
    let id = p.existing ? p.existing.id : null;
    let deployed = false;
    for (const st of p.steps) {
      if (st.kind === 'create') {
        const a = await this.create(p, st);
        id = a.id;
        await this.waitBuilt(id, a);
      } else if (st.kind === 'update') {
        const a = await this.mgmt.call('PATCH', st.path, { body: st.body });
        this.say(`  updated the Action ${p.name} (${st.changes.join(', ')})`);
        await this.waitBuilt(id, a);
      } else if (st.kind === 'deploy') {
        if (st.waitBuiltFirst) await this.waitBuilt(id, p.existing);
        const v = await this.deploy(id);
        await this.waitDeployed(id, v.id);
        deployed = true;
        this.say(`  deployed version ${v.number !== undefined ? v.number : v.id} (built)`);
      } else if (st.kind === 'wait-deployed') {
        await this.waitDeployed(id, st.versionId);
        this.say('  the deployed version is now built');
      } else if (st.kind === 'bind' || st.kind === 'unbind') {
        const body = JSON.parse(JSON.stringify(st.body));
        // Ours is the last binding: its id is known only once the create step has run.
        if (st.kind === 'bind') body.bindings[body.bindings.length - 1].ref.value = id;
        await this.patchBindings(st.path, body, deployed);
        const names = body.bindings.map((b) => b.display_name);
        if (st.kind === 'bind') this.say(`  bound to ${p.trigger}: ${names.join(' → ')}`);
        else this.say(`  unbound from ${p.trigger}; kept: ${names.length ? names.join(' → ') : '(none)'}`);
      } else {
        throw new Error(`unknown plan step ${st.kind}`);
      }
    }
  }
}

module.exports = { Applier };
