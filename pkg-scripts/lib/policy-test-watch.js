'use strict';
// `policy test --watch`: the run again whenever a test file, a policy it tests or the built
// Action changes. Polling (fs.watchFile), not fs.watch: an editor that saves by writing a new
// file and renaming it over the old one ends an fs.watch, and a handful of files is cheap to poll.
const fs = require('node:fs');
const path = require('node:path');

const POLL_MS = 300;
const SETTLE_MS = 200;

/** The files a run depends on: each test file, the policy it names (or its default), the Action. */
function watchedFiles(testFiles, actionPath) {
  const files = new Set([path.resolve(actionPath)]);
  for (const file of testFiles) {
    files.add(path.resolve(file));
    let doc = null;
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (_) {
      // Unreadable now: the run reports it; the file itself is still watched.
    }
    const policy = doc && typeof doc.policy === 'string' ? doc.policy : path.basename(file).replace(/\.test\.json$/, '.json');
    files.add(path.resolve(path.dirname(file), policy));
  }
  return [...files];
}

/**
 * Runs `run()` now and after every change, until the process is stopped. `say` gets one line
 * before each wait. Never resolves.
 */
function watch(testFiles, actionPath, run, { say = (l) => process.stdout.write(`${l}\n`) } = {}) {
  let watched = [];
  let running = false;
  let again = false;
  let timer = null;
  const onChange = (cur, prev) => {
    if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size) return;
    clearTimeout(timer);
    timer = setTimeout(cycle, SETTLE_MS); // an editor's save can be several writes
  };
  async function cycle() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    // Watching starts before the run reads anything, so a save during the run is not missed;
    // a test file may name another policy since the last run, so the set is taken afresh.
    for (const f of watched) fs.unwatchFile(f, onChange);
    watched = watchedFiles(testFiles, actionPath);
    for (const f of watched) fs.watchFile(f, { interval: POLL_MS }, onChange);
    try {
      await run();
    } catch (e) {
      say(`# the run failed: ${e.message}`);
    } finally {
      running = false;
    }
    say(`# watching ${watched.length} file(s) for changes (Ctrl-C stops)`);
    if (again) {
      again = false;
      cycle();
    }
  }
  cycle();
  return new Promise(() => {});
}

module.exports = { watch, watchedFiles };
