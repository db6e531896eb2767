'use strict';
// The real Auth0 Deploy CLI (auth0-deploy-cli, a0deploy, pinned in package.json) against the
// tenant emulator behind a TLS front on 127.0.0.1 (a self-signed certificate made here with
// openssl, trusted by the CLI through NODE_EXTRA_CA_CERTS):
// - `npm run export -- --format deploy-cli DIR`, then `a0deploy import --input_file .` twice:
//   one Action (same id), deployed, one binding; the code is dist/action.js byte for byte;
// - the deployed code from the emulator's Actions store logs in a user through the runner;
// - `a0deploy export` gives back the directory, field by field (it adds `status` and writes
//   secrets by name only);
// - `import --dry-run` reads GET /clients and shows the Action as UPDATE with nothing changed:
//   the only differences it finds are the secret values, which the tenant never returns;
// - PROVISION_CLIENT_SECRET missing from AUTH0_KEYWORD_REPLACE_MAPPINGS: the CLI stores the
//   literal ##PROVISION_CLIENT_SECRET## and exits 0, and the first login ends in the Action's
//   configuration error naming the mapping to add.
// Every request and reply of both tenants is checked against the OpenAPI subset.
//
// The CLI spends 10–19 s validating its schema per import, so it runs 5 times in all, two at a
// time on two tenants. pkg-scripts/test.sh runs this file on one Node only (the machine's:
// a0deploy is a developer tool and needs Node >= 20.19).
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');
const { execFile, execFileSync } = require('node:child_process');
const { SPEC, ajv, API_ERROR, ptr, schemaAt } = require('./openapi.js');
const { TenantEmulator } = require('../pkg-scripts/emulator/server.js');
const { ActionsRunner } = require('../pkg-scripts/emulator/runner.js');
const { actionsOf } = require('../pkg-scripts/emulator/actions-api.js');
const { ROOT, ACTION, FIXTURE, USERS, requireBuilt } = require('./helpers.js');

const A0DEPLOY = path.join(ROOT, 'node_modules/auth0-deploy-cli', require('auth0-deploy-cli/package.json').bin.a0deploy);
const CLI_VERSION = require('auth0-deploy-cli/package.json').version;
const POLICY_FILE = path.join(ROOT, 'pkg-scripts/policies/premium-for-google.json');
const NAME = 'provision-access';
const PROVISION = FIXTURE.clients[0];
// Only the three Actions scopes on tenant T: import and export need no other. U's deployer
// also has read:clients, for the dry run.
// Random, as real secrets are: the suite's secret scan flags any 8-character piece of one, so a
// word-like secret ('a0deploy…') would match the CLI's own output.
const randomSecret = () => crypto.randomBytes(24).toString('base64url');
const DEPLOYER_T = { client_id: 'a0deploy-t', client_secret: randomSecret(), scopes: ['read:actions', 'create:actions', 'update:actions'] };
const DEPLOYER_U = { client_id: 'a0deploy-u', client_secret: randomSecret(), scopes: ['read:actions', 'create:actions', 'update:actions', 'read:clients'] };
const [major, minor] = process.versions.node.split('.').map(Number);
const TOO_OLD = (major < 20 || (major === 20 && minor < 19)) && `a0deploy ${CLI_VERSION} needs Node >= 20.19 (this is ${process.version})`;

// The CLI colours its output; ESC (0x1b) starts each colour code.
const ESC = String.fromCharCode(27);
const stripAnsi = (s) => s.replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g'), '');
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');
const outputs = []; // every output of every child, for the secret checks

function record(kind, text) {
  outputs.push(text);
  if (process.env.SECRET_SCAN_DIR && text) {
    fs.appendFileSync(path.join(process.env.SECRET_SCAN_DIR, 'output.jsonl'), JSON.stringify({ kind, text }) + '\n');
  }
}

/** Runs a child; resolves {code, stdout, stderr, ms}. Its environment is `env` only: no stray AUTH0_*. */
function run(file, args, { cwd, env, kind }) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout: 180000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      record(kind, stdout);
      record(kind, stderr);
      resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** A self-signed certificate for 127.0.0.1, made now. */
function makeCertificate(dir) {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch (_) {
    throw new Error('openssl is needed to make the TLS front\'s certificate (apt-get install openssl)');
  }
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key,
    '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert), certFile: cert };
}

/** TLS terminated on 127.0.0.1, each connection piped to the emulator's plain HTTP port. */
async function tlsFront(origin, { key, cert }) {
  const port = Number(new URL(origin).port);
  const sockets = new Set();
  const server = tls.createServer({ key, cert }, (down) => {
    const up = net.connect(port, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { down.destroy(); up.destroy(); });
    }
    down.pipe(up).pipe(down);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    domain: `127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(resolve);
    }),
  };
}

function filesUnder(dir, base = dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))]).sort();
}

/**
 * Differences between our export and a0deploy's, field by field. Known and allowed: our
 * README.md; `status` (a0deploy adds the build status); secrets written by name only (values
 * never leave the tenant), so only their names and order are compared.
 */
function exportDifferences(ours, theirs) {
  const diffs = [];
  const mine = filesUnder(ours).filter((f) => f !== 'README.md');
  const back = filesUnder(theirs);
  if (JSON.stringify(mine) !== JSON.stringify(back)) diffs.push(`files: ours ${mine.join(', ')} / a0deploy ${back.join(', ')}`);
  for (const f of mine.filter((x) => back.includes(x))) {
    const a = fs.readFileSync(path.join(ours, f), 'utf8');
    const b = fs.readFileSync(path.join(theirs, f), 'utf8');
    if (!f.endsWith('.json')) {
      if (a !== b) diffs.push(`${f}: contents differ (sha256 ${sha256(a).slice(0, 12)} / ${sha256(b).slice(0, 12)})`);
      continue;
    }
    const x = JSON.parse(a);
    const y = JSON.parse(b);
    if (f.startsWith('actions/')) {
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
        if (k === 'status' && !(k in x)) {
          if (y.status !== 'built') diffs.push(`${f}: status ${JSON.stringify(y.status)}, expected "built"`);
        } else if (k === 'secrets') {
          const names = (l) => (l || []).map((s) => s.name);
          if (JSON.stringify(names(x.secrets)) !== JSON.stringify(names(y.secrets))) diffs.push(`${f}: secret names ${names(x.secrets)} / ${names(y.secrets)}`);
          for (const s of y.secrets || []) if (Object.keys(s).join() !== 'name') diffs.push(`${f}: a0deploy wrote secret ${s.name} with ${Object.keys(s)}`);
        } else if (JSON.stringify(x[k]) !== JSON.stringify(y[k])) {
          diffs.push(`${f}: ${k} ${JSON.stringify(x[k])} / ${JSON.stringify(y[k])}`);
        }
      }
    } else if (JSON.stringify(x) !== JSON.stringify(y)) {
      diffs.push(`${f}: ${a.trim()} / ${b.trim()}`);
    }
  }
  return diffs;
}

// The spec's path templates as patterns over /api/v2 paths.
const TEMPLATES = Object.keys(SPEC.paths).map((t) => [new RegExp(`^/api/v2${t.replace(/\{[^}]+\}/g, '[^/]+')}$`), t]);

/** Every Management API request of `emu` and its reply, checked against the spec. */
function assertConformance(emu, label) {
  let checked = 0;
  for (const r of emu.requests) {
    const url = new URL(r.path, 'http://x');
    if (url.pathname === '/oauth/token') continue;
    const m = r.method.toLowerCase();
    const hit = TEMPLATES.find(([re, t]) => re.test(url.pathname) && SPEC.paths[t][m]);
    assert.ok(hit, `${label}: no spec operation for ${r.method} ${url.pathname}`);
    const tpl = hit[1];
    const op = SPEC.paths[tpl][m];
    const what = `${label}: ${r.method} ${tpl}`;
    for (const [k, v] of url.searchParams) {
      const p = (op.parameters || []).find((x) => x.in === 'query' && x.name === k);
      assert.ok(p, `${what}: query parameter ${k} is not in the spec`);
      if (p.schema.type === 'integer') assert.match(v, /^\d+$/, `${what}: ${k}=${v}`);
      if (p.schema.type === 'boolean') assert.match(v, /^(true|false)$/, `${what}: ${k}=${v}`);
    }
    if (r.body !== undefined) {
      const v = schemaAt(ptr('paths', tpl, m, 'requestBody', 'content', 'application/json', 'schema'));
      assert.ok(v(r.body), `${what}: request body does not conform: ${ajv.errorsText(v.errors)}`);
    }
    assert.ok(op.responses[String(r.status)], `${what}: status ${r.status} is not documented`);
    if (r.status >= 400) {
      assert.ok(API_ERROR(r.response), `${what}: error body ${JSON.stringify(r.response)}`);
    } else if (op.responses[String(r.status)].content) {
      const v = schemaAt(ptr('paths', tpl, m, 'responses', r.status, 'content', 'application/json', 'schema'));
      assert.ok(v(r.response), `${what} (${r.status}) does not conform: ${ajv.errorsText(v.errors)}`);
    }
    checked++;
  }
  return checked;
}

const routeOf = (r) => `${r.method} ${new URL(r.path, 'http://x').pathname
  .replace(/\/actions\/actions\/[^/]+/, '/actions/actions/{id}').replace(/\/triggers\/[^/]+\/bindings/, '/triggers/{id}/bindings')}`;
const actionsNamed = (emu, name) => [...actionsOf(emu).store().actions.values()].filter((a) => a.name === name);

describe(`a0deploy ${CLI_VERSION} against the emulator behind TLS`, { skip: TOO_OLD }, () => {
  let TMP, OUT, BACK, T, U;
  const runs = {};
  const t0 = Date.now();

  async function tenant(deployer, cert) {
    const fixture = JSON.parse(JSON.stringify(FIXTURE));
    fixture.clients.push(deployer);
    const emu = new TenantEmulator(fixture);
    emu.actionsOptions = { buildPolls: 1, buildMs: 300 }; // the CLI's deploy retries while `pending`
    const origin = await emu.start();
    const front = await tlsFront(origin, cert);
    return { emu, origin, front, deployer };
  }

  /** The CLI's config file: AUTH0_DOMAIN is the TLS front; the token's audience stays the
   * emulator's own (as with a custom domain, the audience is the tenant's canonical one). */
  function config(t, mappings, file) {
    fs.writeFileSync(file, JSON.stringify({
      AUTH0_DOMAIN: t.front.domain,
      AUTH0_CLIENT_ID: t.deployer.client_id,
      AUTH0_CLIENT_SECRET: t.deployer.client_secret,
      AUTH0_AUDIENCE: `${t.origin}/api/v2/`,
      AUTH0_INCLUDED_ONLY: ['actions', 'triggers'],
      AUTH0_KEYWORD_REPLACE_MAPPINGS: mappings,
    }));
    return file;
  }

  function a0deploy(args, configFile, cwd = OUT) {
    return run(process.execPath, [A0DEPLOY, ...args, '--config_file', configFile],
      { cwd, env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: CERT.certFile }, kind: 'a0deploy' });
  }

  let CERT;
  before(async () => {
    requireBuilt();
    TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-cli-test-'));
    OUT = path.join(TMP, 'out');
    BACK = path.join(TMP, 'back');
    CERT = makeCertificate(TMP);
    T = await tenant(DEPLOYER_T, CERT);
    U = await tenant(DEPLOYER_U, CERT);
    const mappings = (t) => ({ PROVISION_DOMAIN: t.origin, PROVISION_CLIENT_ID: PROVISION.client_id, PROVISION_CLIENT_SECRET: PROVISION.client_secret });
    const { PROVISION_CLIENT_SECRET: _, ...missing } = mappings(U);
    T.config = config(T, mappings(T), path.join(TMP, 'config-t.json'));
    U.config = config(U, missing, path.join(TMP, 'config-u.json'));

    const empty = path.join(TMP, 'empty.env');
    fs.writeFileSync(empty, '');
    runs.export = await run('npm', ['run', '--silent', 'export', '--', '--format', 'deploy-cli', '--no-build', '--action', ACTION,
      '--policy', POLICY_FILE, '--env-file', empty, OUT], {
      cwd: ROOT, kind: 'npm run export',
      env: { PATH: process.env.PATH, HOME: process.env.HOME || TMP, DEPLOY_POLICY_CHECKER: path.join(ROOT, 'target/release/policy') },
    });
    assert.equal(runs.export.code, 0, runs.export.stderr + runs.export.stdout);
    const filesBefore = filesUnder(OUT);

    // Two at a time: T's first import with U's (the mapping missing), then T's second import
    // with U's dry run (same directory and mappings as U's import), then T's export.
    const mark = () => [T.emu.requests.length, U.emu.requests.length];
    runs.marks = [mark()];
    [runs.importT1, runs.importU] = await Promise.all([a0deploy(['import', '--input_file', '.'], T.config), a0deploy(['import', '--input_file', '.'], U.config)]);
    runs.afterFirst = { id: actionsNamed(T.emu, NAME).map((a) => a.id), bindings: actionsOf(T.emu).store().bindings['post-login'].map((b) => b.id) };
    runs.marks.push(mark());
    [runs.importT2, runs.dryRunU] = await Promise.all([a0deploy(['import', '--input_file', '.'], T.config),
      a0deploy(['import', '--input_file', '.', '--dry-run', '--debug'], U.config)]);
    runs.marks.push(mark());
    runs.exportT = await a0deploy(['export', '--format', 'directory', '--output_folder', BACK], T.config, TMP);
    runs.filesAfter = filesUnder(OUT);
    runs.filesBefore = filesBefore;
  });

  after(async () => {
    for (const t of [T, U]) {
      if (!t) continue;
      for (const out of outputs) for (const tok of t.emu.tokens.keys()) assert.ok(!out.includes(tok), 'a token was printed');
      await t.front.close();
      await t.emu.stop();
    }
    if (TMP) fs.rmSync(TMP, { recursive: true, force: true });
    // How long the CLI took, for the suite's time budget.
    const took = Object.entries(runs).filter(([, r]) => r && r.ms).map(([k, r]) => `${k} ${(r.ms / 1000).toFixed(1)} s`).join(', ');
    console.log(`# deploy-cli: ${((Date.now() - t0) / 1000).toFixed(1)} s in all (${took})`);
  });

  test('two imports of the export: one Action (same id), built and deployed, one binding; the code is dist/action.js', () => {
    for (const r of [runs.importT1, runs.importT2]) {
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(stripAnsi(r.stdout + r.stderr), /Import Successful/);
    }
    const [a, ...others] = actionsNamed(T.emu, NAME);
    assert.ok(a, 'the Action exists');
    assert.equal(others.length, 0, 'one Action of that name');
    assert.equal(actionsOf(T.emu).store().actions.size, 1);
    assert.deepEqual([a.id], runs.afterFirst.id, 'the second import updated the same Action');
    assert.deepEqual(a.supported_triggers, [{ id: 'post-login', version: 'v3' }]);
    assert.equal(a.runtime, 'node22');
    assert.ok(a.deployed, 'deployed');
    assert.equal(a.deployed.draft, a.draft, 'all changes deployed');
    assert.equal(a.deployed.build.status, 'built');
    const dist = fs.readFileSync(ACTION, 'utf8');
    assert.equal(sha256(a.deployed.code), sha256(dist), 'the deployed code is dist/action.js');
    assert.deepEqual(actionsOf(T.emu).boundNames('post-login'), [NAME]);
    assert.deepEqual(actionsOf(T.emu).store().bindings['post-login'].map((b) => b.id), runs.afterFirst.bindings, 'the same binding, not a new one');
    // The secrets hold the mapped values (the CLI replaced the ##KEYWORDS##) and the policy.
    assert.deepEqual(actionsOf(T.emu).secrets(NAME), {
      AUTH0_DOMAIN: T.origin, AUTH0_CLIENT_ID: PROVISION.client_id, AUTH0_CLIENT_SECRET: PROVISION.client_secret,
      POLICY: JSON.stringify(JSON.parse(fs.readFileSync(POLICY_FILE, 'utf8'))),
    });
    // What the second import sent: an update and a deploy of the same Action, the same binding.
    const second = T.emu.requests.slice(runs.marks[1][0], runs.marks[2][0]).filter((r) => r.method !== 'GET' && r.path !== '/oauth/token').map(routeOf);
    assert.deepEqual([...new Set(second)].sort(), ['PATCH /api/v2/actions/actions/{id}', 'PATCH /api/v2/actions/triggers/{id}/bindings', 'POST /api/v2/actions/actions/{id}/deploy']);
    assert.ok(!second.includes('POST /api/v2/actions/actions'), 'no second Action created');
    assert.deepEqual(runs.filesAfter, runs.filesBefore, 'the CLI wrote nothing into the directory it imported');
  });

  test('the deployed code, run from the emulator\'s Actions store, logs a user in with the imported secrets', async () => {
    const a = actionsNamed(T.emu, NAME)[0];
    const file = path.join(TMP, 'deployed-t.js');
    fs.writeFileSync(file, a.deployed.code);
    const runner = new ActionsRunner({ emulator: T.emu, actionPath: file, secrets: actionsOf(T.emu).secrets(NAME) });
    const r = await runner.login(USERS.ada);
    assert.equal(r.outcome.error, null, r.logs.join('\n'));
    assert.equal(r.denied, false);
    assert.deepEqual(r.requests.map((q) => q.route), ['POST /oauth/token', 'GET /api/v2/roles', 'POST /api/v2/users/{id}/roles']);
    assert.deepEqual(T.emu.roleNames(USERS.ada), ['Premium User']);
  });

  test('a0deploy export gives back what was imported, field by field (status added, secrets by name)', () => {
    assert.equal(runs.exportT.code, 0, runs.exportT.stderr + runs.exportT.stdout);
    assert.match(stripAnsi(runs.exportT.stdout + runs.exportT.stderr), /Export Successful/);
    assert.deepEqual(exportDifferences(OUT, BACK), []);
    // Not vacuous: the bindings came back from GET /actions/triggers + GET .../bindings.
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(BACK, 'triggers/triggers.json'), 'utf8')), { 'post-login': [{ action_name: NAME, display_name: NAME }] });
    const exportReqs = T.emu.requests.slice(runs.marks[2][0]).map(routeOf);
    assert.ok(exportReqs.includes('GET /api/v2/actions/triggers'), exportReqs.join('\n'));
    // And the comparison sees a difference where there is one.
    const changed = path.join(TMP, 'changed');
    fs.cpSync(BACK, changed, { recursive: true });
    const json = path.join(changed, `actions/${NAME}.json`);
    fs.writeFileSync(json, JSON.stringify({ ...JSON.parse(fs.readFileSync(json, 'utf8')), runtime: 'node18', secrets: [{ name: 'POLICY' }] }));
    fs.appendFileSync(path.join(changed, `actions/${NAME}/code.js`), '\n');
    assert.equal(exportDifferences(OUT, changed).length, 3, exportDifferences(OUT, changed).join('\n'));
    for (const dir of [OUT, BACK]) {
      for (const f of filesUnder(dir)) {
        const text = fs.readFileSync(path.join(dir, f), 'utf8');
        for (const s of [PROVISION.client_secret, DEPLOYER_T.client_secret, DEPLOYER_U.client_secret]) assert.ok(!text.includes(s), `${f} holds a credential`);
      }
    }
  });

  test('import --dry-run reads GET /clients and shows the Action as UPDATE: only the secret values differ', () => {
    const r = runs.dryRunU;
    const out = stripAnsi(r.stdout + r.stderr);
    assert.equal(r.code, 0, out);
    assert.match(out, /Actions\s*│\s*UPDATE\s*│\s*provision-access/);
    assert.doesNotMatch(out, /Triggers\s*│/, 'the binding is unchanged');
    const diffs = [...out.matchAll(/Key "provision-access\.([^"]+)" found in 'localObj' but not in 'remoteObj'/g)].map((m) => m[1]);
    assert.deepEqual(diffs, ['secrets[0].value', 'secrets[1].value', 'secrets[2].value', 'secrets[3].value']);
    const reqs = U.emu.requests.slice(runs.marks[1][1], runs.marks[2][1]);
    assert.ok(reqs.some((q) => routeOf(q) === 'GET /api/v2/clients' && q.status === 200), 'the dry run read the clients (read:clients)');
    assert.deepEqual(reqs.filter((q) => q.method !== 'GET' && q.path !== '/oauth/token'), [], 'a dry run changes nothing');
  });

  test('PROVISION_CLIENT_SECRET missing from the mappings: stored as ##PROVISION_CLIENT_SECRET##, the first login is a configuration error naming the mapping', async () => {
    assert.equal(runs.importU.code, 0, 'the CLI does not notice (its placeholder check skips arrays)');
    assert.equal(actionsOf(U.emu).secrets(NAME).AUTH0_CLIENT_SECRET, '##PROVISION_CLIENT_SECRET##');
    assert.deepEqual(actionsOf(U.emu).boundNames('post-login'), [NAME]);
    const a = actionsNamed(U.emu, NAME)[0];
    const file = path.join(TMP, 'deployed-u.js');
    fs.writeFileSync(file, a.deployed.code);
    const runner = new ActionsRunner({ emulator: U.emu, actionPath: file, secrets: actionsOf(U.emu).secrets(NAME) });
    const before = U.emu.requests.length;
    const r = await runner.login(USERS.ada);
    assert.match(r.logs[0], /AUTH0_CLIENT_SECRET is an unresolved Deploy CLI keyword: add PROVISION_CLIENT_SECRET to AUTH0_KEYWORD_REPLACE_MAPPINGS/);
    assert.equal(r.denied, false, 'on_error: allow (the policy) lets the login through');
    assert.equal(U.emu.requests.length, before, 'no request with a placeholder credential');
    assert.deepEqual(U.emu.roleNames(USERS.ada), []);
  });

  test('every request both tenants saw, and every reply, conforms to the OpenAPI subset', () => {
    const n = assertConformance(T.emu, 'T') + assertConformance(U.emu, 'U');
    assert.ok(n > 40, `${n} requests checked`);
    for (const out of outputs) {
      for (const s of [PROVISION.client_secret, DEPLOYER_T.client_secret, DEPLOYER_U.client_secret]) assert.ok(!out.includes(s), 'a credential was printed');
    }
  });
});
