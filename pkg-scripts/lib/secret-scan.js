'use strict';
// Reading a secret-scan directory (SECRET_SCAN_DIR): secrets.txt lists every credential the
// emulators knew or issued, output.jsonl every line an Action or a tool printed
// ({kind, text}). The scan (scan-secrets.js) and the benchmark check one against the other,
// for every secret raw, percent/form-encoded, JSON-escaped and as any 8-character fragment.
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

/**
 * Every (output, secret) pair where the output holds the secret in any of its forms (see
 * `matcher`), with where the first piece of it starts (`at`).
 */
function findLeaks(outputs, secrets) {
  // One matcher per secret: a line holding several secrets is reported once for each.
  const finds = secrets.map((s) => matcher([s]));
  const out = [];
  for (const o of outputs) {
    for (const find of finds) {
      const leak = find(o.text);
      if (leak) out.push({ ...o, secret: leak.secret, at: leak.at });
    }
  }
  return out;
}

/** `text` with every occurrence of every secret cut to its first 4 characters: safe to print. */
function masked(text, secrets) {
  let out = String(text);
  // Longest first: a secret that contains another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join(`<${s.slice(0, 4)}…>`);
  return out;
}

module.exports = { knownSecrets, recordedOutputs, findLeaks, masked, matcher, encodings, MIN_SECRET_LENGTH, MIN_FRAGMENT };
