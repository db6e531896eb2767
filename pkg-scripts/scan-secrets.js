#!/usr/bin/env node
// Secret hygiene across the whole test suite: every log line, error and deny reason any
// Action execution produced (collected by the runner) is scanned for every client secret
// the emulators knew and every token they issued (collected by the emulator).
// Usage: SECRET_SCAN_DIR=DIR node pkg-scripts/scan-secrets.js
'use strict';
const path = require('node:path');
const { knownSecrets, recordedOutputs, findLeaks, masked } = require('./lib/secret-scan.js');

const dir = process.env.SECRET_SCAN_DIR;
if (!dir) throw new Error('SECRET_SCAN_DIR is not set');
const secrets = knownSecrets(dir);
const outputs = recordedOutputs(dir);
const leaks = findLeaks(outputs, secrets);
// A leaking line may hold other secrets too: every one is masked before it is printed.
for (const { kind, text } of leaks) console.error(`LEAK in ${kind}: ${masked(text, secrets)}`);
const tokens = secrets.filter((s) => s.startsWith('emu.')).length;
console.log(`secret scan (${path.basename(dir)}): ${outputs.length} log lines/errors checked against ${secrets.length - tokens} client secrets and ${tokens} issued tokens: ${leaks.length} leaks`);
if (outputs.length === 0 || secrets.length === 0) {
  console.error(`secret scan (${path.basename(dir)}) saw nothing: the suite did not record its output`);
  process.exit(1);
}
process.exit(leaks.length ? 1 : 0);
