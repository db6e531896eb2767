#!/usr/bin/env node
// Secret hygiene across the whole test suite: every log line, error and deny reason any
// Action execution produced (collected by the runner) is scanned for every client secret
// the emulators knew and every token they issued (collected by the emulator) — raw,
// percent-encoded (%2B and form style, + for a space), JSON-escaped, and any fragment of 8
// characters or more in each of those forms (an echo may have been clipped mid-secret).
// Usage: SECRET_SCAN_DIR=DIR node pkg-scripts/scan-secrets.js
'use strict';
const path = require('node:path');
const { knownSecrets, recordedOutputs, findLeaks, masked, matcher, encodings, MIN_FRAGMENT } = require('./lib/secret-scan.js');

function main() {
  const dir = process.env.SECRET_SCAN_DIR;
  if (!dir) throw new Error('SECRET_SCAN_DIR is not set');
  const secrets = knownSecrets(dir);
  const outputs = recordedOutputs(dir);
  const leaks = findLeaks(outputs, secrets);
  // Never print a secret: only the text before the first piece of one (clean: it was the
  // first), masked once more for whole secrets, and the leaked secret's first 4 characters.
  for (const { kind, text, secret, at } of leaks) {
    console.error(`LEAK in ${kind}: ${masked(text.slice(0, at), secrets)}<part of ${secret.slice(0, 4)}…>`);
  }
  const tokens = secrets.filter((s) => s.startsWith('emu.')).length;
  console.log(`secret scan (${path.basename(dir)}): ${outputs.length} log lines/errors checked against ${secrets.length - tokens} client secrets and ${tokens} issued tokens ` +
    `(raw, percent/form-encoded, JSON-escaped, any ${MIN_FRAGMENT}+-character fragment): ${leaks.length} leaks`);
  if (outputs.length === 0 || secrets.length === 0) {
    console.error(`secret scan (${path.basename(dir)}) saw nothing: the suite did not record its output`);
    process.exit(1);
  }
  process.exit(leaks.length ? 1 : 0);
}

if (require.main === module) main();

module.exports = { matcher, encodings, MIN_FRAGMENT };
