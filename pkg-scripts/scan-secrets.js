#!/usr/bin/env node
// Secret hygiene across the whole test suite: every log line, error and deny reason any
// Action execution produced (collected by the runner) is scanned for every client secret
// the emulators knew and every token they issued (collected by the emulator) — raw,
// percent-encoded (%2B and form style, + for a space), JSON-escaped, and any fragment of 8
// characters or more in each of those forms (an echo may have been clipped mid-secret).
// Usage: SECRET_SCAN_DIR=DIR node pkg-scripts/scan-secrets.js
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** Shortest fragment of a secret that counts as a leak (the Action redacts from this length). */
const MIN_FRAGMENT = 8;

/** The ways `s` can come back in a server's echo or an error message. */
function encodings(s) {
  const json = JSON.stringify(s).slice(1, -1);
  const pct = encodeURIComponent(s);
  return [
    s,
    pct,
    pct.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    new URLSearchParams({ s }).toString().slice(2),
    json,
    json.replace(/\//g, '\\/').replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  ];
}

/**
 * A matcher for `secrets`: every encoding of every MIN_FRAGMENT-character piece of each
 * (every run of 8 or more contains one, so these are all that need looking for). Returns
 * `text => leak | null`, the leak being {secret, form} of the first piece found.
 */
function matcher(secrets) {
  const byHead = new Map();
  for (const secret of secrets) {
    const chars = Array.from(secret);
    const pieces = chars.length < MIN_FRAGMENT ? [secret] : chars.slice(0, chars.length - MIN_FRAGMENT + 1).map((_, i) => chars.slice(i, i + MIN_FRAGMENT).join(''));
    for (const piece of pieces) {
      for (const form of new Set(encodings(piece))) {
        const head = form.slice(0, MIN_FRAGMENT);
        if (!byHead.has(head)) byHead.set(head, []);
        byHead.get(head).push({ secret, form });
      }
    }
  }
  return (text) => {
    for (let i = 0; i + MIN_FRAGMENT <= text.length; i++) {
      const found = byHead.get(text.slice(i, i + MIN_FRAGMENT));
      const hit = found && found.find((c) => text.startsWith(c.form, i));
      if (hit) return { ...hit, at: i };
    }
    return null;
  };
}

function main() {
  const dir = process.env.SECRET_SCAN_DIR;
  if (!dir) throw new Error('SECRET_SCAN_DIR is not set');
  const secrets = [...new Set(fs.readFileSync(path.join(dir, 'secrets.txt'), 'utf8').split('\n').filter((s) => s.length >= MIN_FRAGMENT))];
  const outputs = fs.readFileSync(path.join(dir, 'output.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const find = matcher(secrets);
  let leaks = 0;
  for (const { kind, text } of outputs) {
    const leak = find(text);
    if (leak) {
      leaks++;
      // Never print a secret: only the text before the first leak (clean, as it was the
      // first) and the leaked secret's first 4 characters.
      console.error(`LEAK in ${kind}: ${text.slice(0, leak.at)}<part of ${leak.secret.slice(0, 4)}…>`);
    }
  }
  const tokens = secrets.filter((s) => s.startsWith('emu.')).length;
  console.log(`secret scan (${path.basename(dir)}): ${outputs.length} log lines/errors checked against ${secrets.length - tokens} client secrets and ${tokens} issued tokens ` +
    `(raw, percent/form-encoded, JSON-escaped, any ${MIN_FRAGMENT}+-character fragment): ${leaks} leaks`);
  if (outputs.length === 0 || secrets.length === 0) {
    console.error(`secret scan (${path.basename(dir)}) saw nothing: the suite did not record its output`);
    process.exit(1);
  }
  process.exit(leaks ? 1 : 0);
}

if (require.main === module) main();

module.exports = { matcher, encodings, MIN_FRAGMENT };
