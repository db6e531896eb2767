'use strict';
// The variables the tools read (AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, POLICY,
// ...): the process's environment over a .env file. Errors name a line or a variable, never
// a value: the file holds credentials.
const fs = require('node:fs');
const path = require('node:path');
const { ConfigError } = require('./errors.js');

/**
 * Parses a .env file: `KEY=value` lines, `#` comments, an optional `export ` prefix, values
 * in "double quotes" (escapes \n \" \\; may span lines), 'single quotes' (literal) or bare
 * (an inline ` #comment` is dropped).
 */
function parseEnvFile(text, file = '.env') {
  const out = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s?(.*)$/.exec(line);
    if (!m) throw new ConfigError(`${file}:${i + 1}: expected KEY=value`);
    const [, key] = m;
    let rest = m[2];
    const q = rest.trimStart()[0];
    if (q === '"' || q === "'") {
      rest = rest.trimStart().slice(1);
      let value = '';
      const start = i;
      for (;;) {
        const end = q === "'" ? rest.indexOf("'") : findClosingQuote(rest);
        if (end >= 0) {
          value += rest.slice(0, end);
          const tail = rest.slice(end + 1).trim();
          if (tail && !tail.startsWith('#')) throw new ConfigError(`${file}:${i + 1}: unexpected text after the closing quote`);
          break;
        }
        value += rest + '\n';
        if (++i >= lines.length) throw new ConfigError(`${file}:${start + 1}: unterminated ${q} quote`);
        rest = lines[i];
      }
      out[key] = q === '"' ? value.replace(/\\(.)/g, (_, c) => ({ n: '\n', r: '\r', t: '\t' })[c] || c) : value;
    } else {
      out[key] = rest.replace(/\s+#.*$/, '').trim();
    }
  }
  return out;
}

function findClosingQuote(s) {
  for (let j = 0; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '"') return j;
  }
  return -1;
}

/**
 * The environment: the .env file's values under the process's own (a variable set in the
 * environment wins). The default file may be absent; one named with --env-file may not.
 */
function loadEnv(envFile, { explicit = false, env = process.env } = {}) {
  let fileVars = {};
  if (fs.existsSync(envFile)) {
    fileVars = parseEnvFile(fs.readFileSync(envFile, 'utf8'), path.basename(envFile));
  } else if (explicit) {
    throw new ConfigError(`--env-file ${envFile}: no such file`);
  }
  const merged = { ...fileVars };
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v;
  return merged;
}

/** The variable `name`, trimmed; a ConfigError saying `what` it is when unset or blank. */
function required(env, name, what) {
  const v = env[name];
  if (v === undefined || String(v).trim() === '') throw new ConfigError(`${name} is not set (${what})`);
  return String(v).trim();
}

module.exports = { parseEnvFile, loadEnv, required };
