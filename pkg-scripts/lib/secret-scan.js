'use strict';
// Reading a secret-scan directory (SECRET_SCAN_DIR): secrets.txt lists every credential the
// emulators knew or issued, output.jsonl every line an Action or a tool printed
// ({kind, text}). The scan (scan-secrets.js) and the benchmark check one against the other.
const fs = require('node:fs');
const path = require('node:path');

/** Shorter values are not credentials and would match by chance. */
const MIN_SECRET_LENGTH = 8;

function lines(file) {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
}

/** The credentials listed in `dir` (each once), plus `extra` ones; none shorter than 8. */
function knownSecrets(dir, extra = []) {
  return [...new Set([...lines(path.join(dir, 'secrets.txt')), ...extra])].filter((s) => s && s.length >= MIN_SECRET_LENGTH);
}

/** The outputs recorded in `dir`: [{kind, text}]. */
function recordedOutputs(dir) {
  return lines(path.join(dir, 'output.jsonl')).filter(Boolean).map((l) => JSON.parse(l));
}

/** Every (output, secret) pair where the output contains the secret. */
function findLeaks(outputs, secrets) {
  const out = [];
  for (const o of outputs) for (const s of secrets) if (o.text.includes(s)) out.push({ ...o, secret: s });
  return out;
}

/** `text` with every occurrence of every secret cut to its first 4 characters: safe to print. */
function masked(text, secrets) {
  let out = String(text);
  // Longest first: a secret that contains another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join(`<${s.slice(0, 4)}…>`);
  return out;
}

module.exports = { knownSecrets, recordedOutputs, findLeaks, masked, MIN_SECRET_LENGTH };
