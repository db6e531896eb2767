'use strict';
// The Rust core as a child process (`policy reconcile-plan POLICY --roles ROLES [--explain]`,
// contract: /work/notes/reconcile-contract.md): user snapshots go in as NDJSON lines, exactly
// one plan line per input line comes back, in order. It decides; this file only streams.
// Backpressure both ways: we write while its stdin takes it and at most MAX_PENDING lines
// ahead of what we have read back; it writes while we read. So a million users pass through
// with a few hundred in the pipes at any time.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { ConfigError, DeployError } = require('../lib/errors.js');
const { splitLines } = require('./read-source.js');

const MAX_PENDING = 256;

/** `policy reconcile-roles POLICY`: {names, ids, organizations} the policy names. */
function policyRoles(bin, policyFile) {
  const r = spawnSync(bin, ['reconcile-roles', policyFile], { encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw coreFailure('reconcile-roles', r.status, r.stderr, r.error);
  let out;
  try {
    out = JSON.parse(r.stdout);
  } catch (_) {
    throw new DeployError('`policy reconcile-roles` printed something that is not JSON');
  }
  if (!out || !Array.isArray(out.names) || !Array.isArray(out.ids)) throw new DeployError('`policy reconcile-roles`: expected {"names": [...], "ids": [...]}');
  if (out.organizations === undefined) out.organizations = []; // a core from before organizations
  if (!Array.isArray(out.organizations)) throw new DeployError('`policy reconcile-roles`: "organizations" is not a list');
  return out;
}

function coreFailure(what, status, stderr, error) {
  const msg = (stderr || '').trim().split('\n').slice(0, 8).join('\n');
  if (error && error.code === 'ENOENT') return new ConfigError(`the policy core is missing: ${error.path}`);
  if (status === 2) return new ConfigError(`\`policy ${what}\`: ${msg || 'refused the policy or the roles table (exit 2)'}`);
  if (typeof status === 'number' && status < 0) return new DeployError(`\`policy ${what}\` could not run (errno ${status})`);
  if (status === null || status === undefined) return new DeployError(`\`policy ${what}\` ${error ? `could not run (${error.code || error.message})` : 'was killed'}`);
  // A core without the subcommand (older build) says "usage"; say what to do.
  if (/usage/i.test(msg) && !/reconcile/.test(msg)) return new ConfigError(`\`policy ${what}\` is not in this build of the core: rebuild it (cargo build --release --features cli --bin policy)`);
  return new DeployError(`\`policy ${what}\` exited ${status}${msg ? `: ${msg}` : ''}`);
}

/** The roles table in a private temporary file the core reads; returns {file, remove()}. */
function writeRolesFile(table) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth0-reconcile-roles-'));
  const file = path.join(dir, 'roles.json');
  fs.writeFileSync(file, JSON.stringify(table), { mode: 0o600 });
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Plans for a stream of inputs: yields {input, plan} in input order.
 * @param {object} o bin, policyFile, rolesFile, explain; inputs: async iterable of
 *   {user, roles}
 */
async function *planStream({ bin, policyFile, rolesFile, explain = false, inputs }) {
  const args = ['reconcile-plan', policyFile, '--roles', rolesFile, ...(explain ? ['--explain'] : [])];
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-8192); });
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const spawnError = new Promise((_, reject) => child.on('error', reject));
  spawnError.catch(() => {});
  // A core that exits early breaks the pipe (EPIPE): writing stops, its exit status says why.
  let broken = false;
  const drained = () => new Promise((resolve) => {
    const done = () => {
      child.stdin.off('drain', done);
      child.stdin.off('close', done);
      resolve();
    };
    child.stdin.on('drain', done);
    child.stdin.on('close', done);
  });
  child.stdin.on('error', () => { broken = true; });
  child.stdin.on('close', () => { broken = true; });

  const pending = [];
  let wakeWriter = null;
  let stop = false;
  const writer = (async () => {
    for await (const input of inputs) {
      if (stop || broken) break;
      pending.push(input);
      if (!child.stdin.write(JSON.stringify({ user: input.user, roles: input.roles, ...(input.orgs ? { orgs: input.orgs } : {}) }) + '\n')) await drained();
      while (pending.length > MAX_PENDING && !stop && !broken) await new Promise((r) => { wakeWriter = r; });
    }
    child.stdin.end();
  })();
  let writerError = null;
  writer.catch((e) => {
    writerError = e;
    child.kill();
  });

  try {
    for await (const line of splitLines(child.stdout)) {
      if (writerError) throw writerError;
      const input = pending.shift();
      if (wakeWriter) {
        wakeWriter();
        wakeWriter = null;
      }
      if (!input) throw new DeployError('the policy core printed more lines than it was given');
      let plan;
      try {
        plan = JSON.parse(line);
      } catch (_) {
        throw new DeployError(`the policy core printed a line that is not JSON (for ${input.user.user_id})`);
      }
      if (!plan || typeof plan !== 'object') throw new DeployError('the policy core printed a line that is not an object');
      if (plan.user_id !== input.user.user_id && !(plan.error && plan.user_id === null)) {
        throw new DeployError(`the policy core answered for ${JSON.stringify(plan.user_id)} where ${JSON.stringify(input.user.user_id)} was next: out of step`);
      }
      yield { input, plan };
    }
    // The core's output ended: a writer still waiting to write more must stop.
    stop = true;
    if (wakeWriter) wakeWriter();
    await writer;
    if (writerError) throw writerError;
    // A failed spawn emits 'error' and then 'close' with a negative errno as its code: both
    // settled, race takes the first listed, so the spawn error comes first.
    const { code, signal } = await Promise.race([spawnError, exited]);
    if (code !== 0) throw coreFailure('reconcile-plan', signal ? null : code, stderr);
    if (pending.length) throw new DeployError(`the policy core ended with ${pending.length} user(s) unanswered`);
  } catch (e) {
    if (e && e.code === 'ENOENT') throw new ConfigError(`the policy core is missing: ${bin}`);
    if (writerError && !(e instanceof DeployError)) throw writerError;
    throw e;
  } finally {
    stop = true;
    if (wakeWriter) wakeWriter();
    if (child.exitCode === null) child.kill();
  }
}

module.exports = { planStream, policyRoles, writeRolesFile, MAX_PENDING };
