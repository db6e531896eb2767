'use strict';
// The emulator's user export jobs, mounted by server.js like actions-api.js:
//   POST /api/v2/jobs/users-exports  {connection_id?, format? json|csv, limit?, fields?} → 200
//                                    {id: job_…, type: users_export, status: pending, …}
//   GET  /api/v2/jobs/{id}           pending → processing (percentage_done, time_left_seconds)
//                                    → completed (+ location) over `exportJobMs`
//   GET  /exports/{job}/{tenant}.json.gz?Expires=…&Key-Pair-Id=…&Signature=…  the file,
//                                    gzipped NDJSON (or CSV), streamed as it is read
// Facts: shared/reference/auth0-facts-bulk.md (users export). Decided here, where Auth0 says
// nothing or the docs disagree: the file holds the users as they are when it is DOWNLOADED
// (the store is read while streaming, never copied); every GET of a completed job mints a new
// link, valid `exportLinkMs` (60 s), after which the link is a 403 (the storage's XML
// AccessDenied); the response's `connection` (required by the spec) is the connection's name,
// or null when the job exports every connection; a job is gone (404) 24 h after creation.
// Options (TenantEmulator opts): exportJobMs (default 1500), exportLinkMs (60000), tenantName.
const crypto = require('node:crypto');
const zlib = require('node:zlib');
const { Readable, pipeline } = require('node:stream');
const { apiError } = require('./actions-checks.js');
const { userView } = require('./users-api.js');

const JOB_TTL_MS = 24 * 3600 * 1000;
const CSV_MAX_FIELDS = 30;
const CSV_DEFAULT = ['user_id', 'email', 'email_verified', 'name', 'created_at', 'updated_at', 'logins_count'];
const DATE_FIELDS = new Set(['created_at', 'updated_at', 'last_login', 'last_password_reset']);
const badBody = (message) => apiError(400, 'Bad Request', `Payload validation error: ${message}`, 'invalid_body');
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

class ExportJobs {
  constructor(emu) {
    this.emu = emu;
    this.jobs = new Map();
  }

  opts() {
    const o = this.emu.options || {};
    return { jobMs: o.exportJobMs ?? 1500, linkMs: o.exportLinkMs ?? 60000, tenant: o.tenantName || 'emulator' };
  }

  create(body) {
    body = body === undefined ? {} : body;
    if (!isObject(body)) return badBody('expected an object');
    const extra = Object.keys(body).find((k) => !['connection_id', 'format', 'limit', 'fields'].includes(k));
    if (extra) return badBody(`'${extra}' is not allowed`);
    const format = body.format === undefined ? 'json' : body.format;
    if (format !== 'json' && format !== 'csv') return badBody("'format' must be json or csv");
    if (body.limit !== undefined && !(Number.isInteger(body.limit) && body.limit >= 1)) return badBody("'limit' must be an integer of at least 1");
    let connection = null;
    if (body.connection_id !== undefined) {
      if (typeof body.connection_id !== 'string' || !/^con_[A-Za-z0-9]{16}$/.test(body.connection_id)) return badBody("'connection_id' must be con_ and 16 letters or digits");
      connection = this.emu.connections.find((c) => c.id === body.connection_id);
      if (!connection) return apiError(400, 'Bad Request', `The connection does not exist: ${body.connection_id}`, 'inexistent_connection');
    }
    const fields = body.fields === undefined ? null : checkFields(body.fields, format);
    if (fields && fields.error) return fields.error;
    const id = `job_${crypto.randomBytes(12).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 16).padEnd(16, '0')}`;
    const job = { id, created: Date.now(), format, limit: body.limit, connection, fields, links: new Map() };
    this.jobs.set(id, job);
    return { status: 200, body: { ...this.describe(job), status: 'pending' } };
  }

  describe(job) {
    const out = { type: 'users_export', status: 'pending', created_at: new Date(job.created).toISOString(), id: job.id, format: job.format };
    out.connection = job.connection ? job.connection.name : null;
    if (job.connection) out.connection_id = job.connection.id;
    if (job.limit !== undefined) out.limit = job.limit;
    if (job.fields) out.fields = job.fields.map(({ name, export_as }) => (export_as === undefined ? { name } : { name, export_as }));
    return out;
  }

  find(id) {
    const job = this.jobs.get(id);
    if (job && Date.now() - job.created >= JOB_TTL_MS) this.jobs.delete(id);
    return this.jobs.get(id);
  }

  get([id]) {
    const job = this.find(id);
    if (!job) return apiError(404, 'Not Found', 'The job does not exist.', 'inexistent_job');
    const { jobMs } = this.opts();
    const elapsed = Date.now() - job.created;
    const out = this.describe(job);
    if (elapsed >= jobMs) {
      out.status = 'completed';
      out.percentage_done = 100;
      out.time_left_seconds = 0;
      out.location = this.mintLink(job);
    } else if (elapsed >= jobMs * 0.2) {
      out.status = 'processing';
      out.percentage_done = Math.min(99, Math.floor(((elapsed - jobMs * 0.2) / (jobMs * 0.8)) * 100));
      out.time_left_seconds = Math.ceil((jobMs - elapsed) / 1000);
    } else {
      out.percentage_done = 0;
    }
    return { status: 200, body: out };
  }

  fileName(job) {
    return `${this.opts().tenant}.${job.format}.gz`;
  }

  /** A new signed-looking link, valid linkMs from now (the signature is what is checked). */
  mintLink(job) {
    const now = Date.now();
    for (const [sig, exp] of job.links) if (exp <= now) job.links.delete(sig);
    const exp = now + this.opts().linkMs;
    const sig = crypto.randomBytes(32).toString('base64url');
    job.links.set(sig, exp);
    const q = new URLSearchParams({ Expires: String(Math.ceil(exp / 1000)), 'Key-Pair-Id': 'EMULATORKEYPAIR', Signature: sig });
    return `${this.emu.origin}/exports/${job.id}/${encodeURIComponent(this.fileName(job))}?${q}`;
  }

  download([jobId, file], query) {
    const job = this.find(jobId);
    const sig = query.get('Signature') || '';
    const exp = job && job.links.get(sig);
    if (!job || file !== this.fileName(job) || exp === undefined || query.get('Expires') !== String(Math.ceil(exp / 1000))) {
      return denied('Access denied');
    }
    if (Date.now() >= exp) return denied('Request has expired');
    const headers = { 'content-type': 'application/gzip', 'content-disposition': `attachment; filename="${this.fileName(job)}"` };
    return { status: 200, headers, body: (res) => this.stream(job, res) };
  }

  /** Streams the file: users read from the store a batch at a time, gzipped as the client reads. */
  stream(job, res) {
    const emu = this.emu;
    const fields = job.fields || (job.format === 'csv' ? CSV_DEFAULT.map((name) => ({ name, path: [name] })) : null);
    const connName = job.connection && job.connection.name;
    function *lines() {
      if (job.format === 'csv') yield fields.map(({ name, export_as }) => csvHeader(export_as || name)).join(',') + '\n';
      let n = 0;
      let batch = '';
      for (const [, u] of emu.users.scan()) {
        if (job.limit !== undefined && n >= job.limit) break;
        if (connName && u.connection !== connName) continue;
        n++;
        const view = userView(emu, u);
        batch += (job.format === 'csv' ? csvRow(view, fields) : JSON.stringify(fields ? pick(view, fields) : view)) + '\n';
        if (batch.length >= 65536) {
          yield batch;
          batch = '';
        }
      }
      if (batch) yield batch;
    }
    pipeline(Readable.from(lines(), { objectMode: false }), zlib.createGzip({ level: 1 }), res, () => { /* a client that hangs up ends it */ });
  }
}

function denied(message) {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>${message}</Message></Error>\n`;
  return { status: 403, headers: { 'content-type': 'application/xml' }, body: (res) => res.end(xml) };
}

/** The fields list checked ({name ≤ 100, export_as? ≤ 100}); for CSV at most 30, no whole metadata. */
function checkFields(fields, format) {
  if (!Array.isArray(fields)) return { error: badBody("'fields' must be an array") };
  const keys = new Set();
  const out = [];
  for (const f of fields) {
    if (!isObject(f) || Object.keys(f).some((k) => k !== 'name' && k !== 'export_as') || typeof f.name !== 'string' ||
        f.name.length < 1 || f.name.length > 100 || (f.export_as !== undefined && (typeof f.export_as !== 'string' || f.export_as.length < 1 || f.export_as.length > 100))) {
      return { error: badBody('each field must be {name, export_as?}, strings of 1..100 characters') };
    }
    const key = f.export_as || f.name;
    if (keys.has(key)) return { error: badBody(`the field ${key} is exported twice`) };
    keys.add(key);
    out.push({ name: f.name, export_as: f.export_as, path: parsePath(f.name) });
  }
  if (format === 'csv') {
    if (out.length > CSV_MAX_FIELDS) return { error: badBody(`a CSV export takes at most ${CSV_MAX_FIELDS} fields`) };
    const whole = out.find((f) => f.name === 'app_metadata' || f.name === 'user_metadata');
    if (whole) return { error: badBody(`a CSV export cannot take ${whole.name} as a whole: name its keys (${whole.name}.key) or use json`) };
  }
  return out;
}

/** "identities[0].connection" → ['identities', 0, 'connection']. */
function parsePath(name) {
  const out = [];
  for (const part of name.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return [name];
    if (m[1]) out.push(m[1]);
    for (const i of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(i[1]));
  }
  return out;
}

/** The value at a path, own properties only (a field named __proto__ reads nothing). */
function valueAt(obj, path) {
  let v = obj;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    v = v[k];
  }
  return v;
}

function pick(view, fields) {
  const out = {};
  for (const f of fields) {
    const v = valueAt(view, f.path);
    // defineProperty: an export_as of "__proto__" is a plain key, not the prototype.
    if (v !== undefined) Object.defineProperty(out, f.export_as || f.name, { value: v, enumerable: true });
  }
  return out;
}

/** A CSV cell as Auth0 escapes it: strings quoted, inner quotes doubled, a leading '; dates as is. */
function csvCell(v, isDate) {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isDate) return v;
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return `"'${s.replace(/"/g, '""')}"`;
}

/** A header cell: the column's name, quoted only when it must be. */
const csvHeader = (name) => (/[",\r\n]/.test(name) ? `"${name.replace(/"/g, '""')}"` : name);

function csvRow(view, fields) {
  return fields.map((f) => csvCell(valueAt(view, f.path), DATE_FIELDS.has(f.name))).join(',');
}

const jobsOf = new WeakMap();
function exportsOf(emu) {
  if (!jobsOf.has(emu)) jobsOf.set(emu, new ExportJobs(emu));
  return jobsOf.get(emu);
}
const serve = (name) => (emu, params, query, body) => exportsOf(emu)[name](params, query, body);
const routes = [
  ['POST', /^\/api\/v2\/jobs\/users-exports$/, (emu, _p, _q, body) => exportsOf(emu).create(body), 'read:users'],
  ['GET', /^\/api\/v2\/jobs\/([^/]+)$/, serve('get'), 'create:users read:users'],
  ['GET', /^\/exports\/([^/]+)\/([^/]+)$/, serve('download'), null],
];

module.exports = { routes, exportsOf, parsePath, csvCell };
