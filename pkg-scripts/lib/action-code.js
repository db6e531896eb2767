'use strict';
// The Action code the tools ship (deploy, export): dist/action.js, rebuilt when older than
// its sources, or a file given with --action; refused when Auth0 would refuse it.
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { ConfigError } = require('./errors.js');
const { TRIGGERS } = require('./triggers.js');

const ROOT = path.resolve(__dirname, '../..');
const DEFAULT_ACTION = path.join(ROOT, 'dist/action.js');
const CODE_LIMIT = 100 * 1000; // Auth0: an Action's code is at most 100 kB
/** Sources whose change makes dist/action.js stale. */
const BUILD_INPUTS = ['src', 'js-shim', 'pkg-scripts/build.js', 'Cargo.toml', 'Cargo.lock'];

/** The newest modification time under `p` (a file or a directory tree); 0 when absent. */
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

/** Whether `file` is missing or older than any of `inputs` (paths relative to the repository). */
function isOlderThanSources(file, inputs) {
  if (!fs.existsSync(file)) return true;
  const built = fs.statSync(file).mtimeMs;
  return inputs.some((p) => newestMtime(path.join(ROOT, p)) > built);
}

/** Whether dist/action.js (or `file`) is missing or older than any of its sources. */
function isStale(file = DEFAULT_ACTION) {
  return isOlderThanSources(file, BUILD_INPUTS);
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

module.exports = { ROOT, DEFAULT_ACTION, CODE_LIMIT, BUILD_INPUTS, isOlderThanSources, isStale, loadCode };
