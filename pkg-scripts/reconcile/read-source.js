'use strict';
// Where the users come from, as an async stream of user records (one at a time: the caller
// pulls, nothing is read ahead beyond one page or one chunk of the export file).
// - search: GET /users, 100 a page. Auth0 lists at most the first 1,000 users this way.
// - export: a users-export job (POST /jobs/users-exports, json format, the fields the core
//   reads), polled with backoff until done, then its file downloaded from the job's
//   `location` — the one request outside the tenant's origin: https only (http only when the
//   tenant itself is loopback http, and then only to loopback), no Authorization header,
//   gunzipped when it is gzip (by Content-Encoding, which fetch undoes, or by its magic
//   bytes), split into lines as it arrives. A link that has expired (403; links live 60 s)
//   or a download cut off is asked for again (GET /jobs/{id} mints a fresh link) and resumed
//   after the lines already read.
// - auto: the first GET /users page with include_totals; ≤ 1,000 users → search, else export.
const zlib = require('node:zlib');
const { Readable } = require('node:stream');
const { DeployError, ConfigError } = require('../lib/errors.js');

/** What the core reads of a user (the contract's record fields). */
const FIELDS = ['user_id', 'email', 'email_verified', 'identities', 'app_metadata', 'user_metadata', 'logins_count'];
const SEARCH_CAP = 1000;
const PER_PAGE = 100;
const MAX_LINE = 16 * 1024 * 1024;
const DOWNLOAD_ATTEMPTS = 4;
const IDLE_TIMEOUT_MS = 60000;
const JOB_TIMEOUT_MS = 8 * 3600 * 1000; // Auth0 fails an export not done in 8 hours

const usersPage = (client, page) => client.call('GET', '/api/v2/users', {
  query: { page, per_page: PER_PAGE, include_totals: true, fields: FIELDS.join(','), include_fields: true },
});

function checkPage(body) {
  if (!body || !Array.isArray(body.users) || typeof body.total !== 'number') throw new DeployError('GET /api/v2/users: unexpected reply (expected {users, total} with include_totals)');
  return body;
}

/** Pages of GET /users from `first` (page 0, already read) on; ids seen once only (pages can shift). */
async function *searchUsers(client, first, info) {
  const seen = new Set();
  let body = first;
  for (let page = 0; ; page++) {
    if (page > 0) body = checkPage(await usersPage(client, page));
    for (const u of body.users) {
      if (!u || typeof u.user_id !== 'string' || seen.has(u.user_id)) continue;
      seen.add(u.user_id);
      info.read++;
      yield u;
    }
    if (!body.users.length || (page + 1) * PER_PAGE >= Math.min(body.total, SEARCH_CAP)) return;
  }
}

/** The export job's file as user records. */
async function *exportUsers(client, info, { origin, sleep, now, say }) {
  const fields = FIELDS.map((name) => ({ name }));
  const job = await client.call('POST', '/api/v2/jobs/users-exports', { body: { format: 'json', fields } });
  if (!job || typeof job.id !== 'string') throw new DeployError('POST /api/v2/jobs/users-exports: unexpected reply (no job id)');
  info.job = job.id;
  let read = 0;
  let lastId = null;
  for (let attempt = 1; ; attempt++) {
    const location = await waitForJob(client, job.id, { sleep, now, say });
    let skip = read;
    try {
      for await (const line of downloadLines(location, origin)) {
        const u = parseRecord(line, read + 1);
        if (skip > 0) {
          // Resuming: the file must be the one we were reading.
          if (--skip === 0 && u.user_id !== lastId) throw new DeployError('the export file changed between downloads: run again');
          continue;
        }
        read++;
        lastId = u.user_id;
        info.read++;
        yield u;
      }
      return;
    } catch (e) {
      if (!(e instanceof RetryDownload) || attempt >= DOWNLOAD_ATTEMPTS) throw e instanceof RetryDownload ? new DeployError(`export download failed ${attempt} times: ${e.message}`) : e;
      say(`export download: ${e.message}; asking the job for a fresh link (attempt ${attempt + 1} of ${DOWNLOAD_ATTEMPTS})`);
      await sleep(500 * attempt);
    }
  }
}

function parseRecord(line, n) {
  let u;
  try {
    u = JSON.parse(line);
  } catch (_) {
    throw new DeployError(`export file line ${n}: not JSON`);
  }
  if (!u || typeof u !== 'object' || Array.isArray(u) || typeof u.user_id !== 'string') throw new DeployError(`export file line ${n}: not a user record (no user_id)`);
  return u;
}

/** Polls GET /jobs/{id} (0.5 s, growing 1.5× to 15 s, or the job's own time_left) until completed; returns location. */
async function waitForJob(client, id, { sleep, now, say }) {
  const start = now();
  let wait = 500;
  for (;;) {
    const job = await client.call('GET', `/api/v2/jobs/${encodeURIComponent(id)}`);
    const status = job && job.status;
    if (status === 'completed') {
      if (typeof job.location !== 'string' || !job.location) throw new DeployError(`export job ${id} completed without a location`);
      return job.location;
    }
    if (status === 'failed' || status === 'cancelled' || status === 'expired') {
      const details = job.status_details ? `: ${JSON.stringify(job.status_details).slice(0, 300)}` : '';
      throw new DeployError(`export job ${id} ${status}${details}`);
    }
    if (now() - start > JOB_TIMEOUT_MS) throw new DeployError(`export job ${id} not done after 8 hours`);
    const hint = job && Number.isFinite(job.time_left_seconds) && job.time_left_seconds > 0 ? job.time_left_seconds * 1000 : wait;
    const ms = Math.min(Math.max(Math.min(hint, wait), 250), 15000);
    if (job && Number.isFinite(job.percentage_done)) say(`export job ${id}: ${status || 'pending'} ${job.percentage_done}%`);
    await sleep(ms);
    wait = Math.min(wait * 1.5, 15000);
  }
}

class RetryDownload extends Error {}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The download URL, checked: https, or http only when the tenant is loopback http and so is the link. */
function checkLocation(location, origin) {
  let url;
  try {
    url = new URL(location);
  } catch (_) {
    throw new DeployError('the export job gave a location that is not a URL');
  }
  const tenant = new URL(origin);
  const ok = url.protocol === 'https:' ||
    (url.protocol === 'http:' && tenant.protocol === 'http:' && LOOPBACK.has(tenant.hostname) && LOOPBACK.has(url.hostname));
  if (!ok) throw new DeployError(`the export job's download link is ${url.protocol}//${url.host}: only https is followed (http only on a loopback tenant)`);
  if (url.username || url.password) throw new DeployError('the export job\'s download link carries credentials: refused');
  return url;
}

/** The export file's lines as they arrive (never the whole file): gzip by header or magic bytes. */
async function *downloadLines(location, origin) {
  const url = checkLocation(location, origin);
  const ctl = new AbortController();
  let idle = setTimeout(() => ctl.abort(), IDLE_TIMEOUT_MS);
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => ctl.abort(), IDLE_TIMEOUT_MS);
  };
  let res;
  try {
    // No Authorization: the link is signed; our token never leaves the tenant's origin.
    res = await fetch(url, { headers: { accept: 'application/gzip, application/x-ndjson, application/json, */*' }, redirect: 'error', signal: ctl.signal });
  } catch (e) {
    clearTimeout(idle);
    throw new RetryDownload(e.name === 'AbortError' ? 'no answer within 60 s' : `network error (${e.cause ? e.cause.code || e.cause.message : e.message})`);
  }
  try {
    if (res.status === 403 || res.status === 404 || res.status === 410 || res.status >= 500) {
      throw new RetryDownload(`HTTP ${res.status}${res.status === 403 ? ' (the link expired)' : ''}`);
    }
    if (res.status !== 200 || !res.body) throw new DeployError(`export download: HTTP ${res.status}`);
    yield* splitLines(decode(Readable.fromWeb(res.body)), touch);
  } catch (e) {
    if (e instanceof RetryDownload || e instanceof DeployError || e instanceof ConfigError) throw e;
    throw new RetryDownload(ctl.signal.aborted ? 'stalled for 60 s' : `cut off (${e.code || e.message})`);
  } finally {
    clearTimeout(idle);
    ctl.abort(); // a consumer that stops early hangs up
  }
}

/** The bytes, gunzipped when they start with gzip's magic bytes (1f 8b). */
async function *decode(stream) {
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const rest = (async function *() {
    yield first.value;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }());
  if (first.value.length >= 2 && first.value[0] === 0x1f && first.value[1] === 0x8b) {
    const gunzip = zlib.createGunzip();
    const src = Readable.from(rest);
    src.on('error', (e) => gunzip.destroy(e));
    yield* src.pipe(gunzip);
  } else {
    yield* rest;
  }
}

/** Non-empty lines of a byte stream (CRLF too); a line over 16 MB is refused. */
async function *splitLines(chunks, onChunk = () => {}) {
  const { StringDecoder } = require('node:string_decoder');
  const dec = new StringDecoder('utf8');
  let buf = '';
  for await (const chunk of chunks) {
    onChunk();
    buf += dec.write(chunk);
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      if (line.trim()) yield line;
    }
    if (buf.length > MAX_LINE) throw new DeployError('export file: a line over 16 MB: refused');
  }
  buf += dec.end();
  if (buf.trim()) yield buf.replace(/\r$/, '');
}

/**
 * The users of the tenant as an async iterator, and `info` {source, total, read, job}.
 * @param {object} o source: auto | search | export; origin; sleep, now; say (notes)
 */
async function openSource(client, { source = 'auto', origin, sleep, now, say = () => {} }) {
  const info = { source, total: null, read: 0, job: null };
  const sleepFn = sleep || ((ms) => new Promise((r) => setTimeout(r, ms)));
  const nowFn = now || Date.now;
  if (source === 'export') {
    return { info, users: exportUsers(client, info, { origin, sleep: sleepFn, now: nowFn, say }) };
  }
  const first = checkPage(await usersPage(client, 0));
  info.total = first.total;
  if (first.total <= SEARCH_CAP) {
    info.source = 'search';
    return { info, users: searchUsers(client, first, info) };
  }
  if (source === 'search') {
    throw new ConfigError(`the tenant has ${first.total} users and GET /users reaches only the first ${SEARCH_CAP}: use --source export (or auto)`);
  }
  info.source = 'export';
  return { info, users: exportUsers(client, info, { origin, sleep: sleepFn, now: nowFn, say }) };
}

module.exports = { openSource, checkLocation, splitLines, decode, downloadLines, FIELDS, SEARCH_CAP };
