#!/usr/bin/env node
// Secret hygiene across the whole test suite: every log line, error and deny reason any
// Action execution produced (collected by the runner) is scanned for every client secret
// the emulators knew and every token they issued (collected by the emulator).
// Usage: SECRET_SCAN_DIR=DIR node pkg-scripts/scan-secrets.js
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.SECRET_SCAN_DIR;
if (!dir) throw new Error('SECRET_SCAN_DIR is not set');
const secrets = [...new Set(fs.readFileSync(path.join(dir, 'secrets.txt'), 'utf8').split('\n').filter((s) => s.length >= 8))];
const outputs = fs.readFileSync(path.join(dir, 'output.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
let leaks = 0;
for (const { kind, text } of outputs) {
  for (const s of secrets) {
    if (text.includes(s)) {
      leaks++;
      console.error(`LEAK in ${kind}: ${text.replace(s, '<' + s.slice(0, 4) + '…>')}`);
    }
  }
}
const tokens = secrets.filter((s) => s.startsWith('emu.')).length;
console.log(`secret scan (${path.basename(dir)}): ${outputs.length} log lines/errors checked against ${secrets.length - tokens} client secrets and ${tokens} issued tokens: ${leaks} leaks`);
if (outputs.length === 0 || secrets.length === 0) {
  console.error(`secret scan (${path.basename(dir)}) saw nothing: the suite did not record its output`);
  process.exit(1);
}
process.exit(leaks ? 1 : 0);
