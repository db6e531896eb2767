'use strict';
// pkg-scripts/lib/secret-scan.js and scan-secrets.js: a leak is found and reported without
// the secret itself, however many secrets the leaking line holds.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { knownSecrets, recordedOutputs, findLeaks, masked } = require('../pkg-scripts/lib/secret-scan.js');

const ROOT = path.resolve(__dirname, '..');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-scan-test-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

const A = 'client-secret-aaaaaaaa';
const B = 'emu.token-bbbbbbbbbbbbbbbbbbbbbbbbbb';

function scanDir(name, secrets, outputs) {
  const dir = path.join(TMP, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'secrets.txt'), secrets.map((s) => s + '\n').join(''));
  fs.writeFileSync(path.join(dir, 'output.jsonl'), outputs.map((o) => JSON.stringify(o) + '\n').join(''));
  return dir;
}

test('secrets are listed once, short values are not secrets; outputs are read back', () => {
  const dir = scanDir('read', [A, A, 'short', ''], [{ kind: 'log', text: 'hello' }]);
  assert.deepEqual(knownSecrets(dir, [B, 'tiny']), [A, B]);
  assert.deepEqual(recordedOutputs(dir), [{ kind: 'log', text: 'hello' }]);
  assert.deepEqual(knownSecrets(path.join(TMP, 'absent')), []);
});

test('a leak names its output and secret; the printed text masks every occurrence of every secret', () => {
  const outputs = [{ kind: 'log', text: 'clean' }, { kind: 'error', text: `${A} then ${B} then ${A}` }];
  assert.deepEqual(findLeaks(outputs, [A, B]).map((l) => [l.kind, l.secret]), [['error', A], ['error', B]]);
  const m = masked(outputs[1].text, [A, B]);
  assert.equal(m, '<clie…> then <emu.…> then <clie…>');
});

test('scan-secrets.js fails on a leak and prints no secret; passes a clean suite', () => {
  const run = (dir) => spawnSync(process.execPath, [path.join(ROOT, 'pkg-scripts/scan-secrets.js')], { env: { PATH: process.env.PATH, SECRET_SCAN_DIR: dir }, encoding: 'utf8' });
  const leak = run(scanDir('leak', [A, B], [{ kind: 'log', text: `token ${B} and ${A} twice ${A}` }]));
  assert.equal(leak.status, 1);
  assert.match(leak.stderr, /LEAK in log/);
  assert.match(leak.stdout, /: 2 leaks/);
  for (const s of [A, B]) assert.ok(!leak.stdout.includes(s) && !leak.stderr.includes(s), `printed ${s}`);
  const clean = run(scanDir('clean', [A], [{ kind: 'log', text: 'nothing secret' }]));
  assert.equal(clean.status, 0, clean.stderr);
  assert.match(clean.stdout, /1 log lines\/errors checked against 1 client secrets and 0 issued tokens \(.*\): 0 leaks/);
});
