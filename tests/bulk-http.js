'use strict';
// HTTP helpers for the bulk-endpoint tests (emulator-bulk*.test.js): a call over real HTTP,
// a token, a seeded emulator, and checks of a reply (and of a request we send) against the
// OpenAPI subset (tests/openapi.js).
const assert = require('node:assert/strict');
const { ajv, API_ERROR, ptr, schemaAt, operation } = require('./openapi.js');
const { TenantEmulator } = require('../pkg-scripts/emulator/server.js');
const { seedFixture } = require('../pkg-scripts/emulator/seed.js');

async function call(origin, method, pathAndQuery, { token, body, headers = {}, timeout = 10000 } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    h['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const r = await fetch(origin + pathAndQuery, { method, headers: h, body: payload, signal: AbortSignal.timeout(timeout) });
  const buf = Buffer.from(await r.arrayBuffer());
  const text = buf.toString('utf8');
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch (_) { json = undefined; }
  return { status: r.status, headers: r.headers, buf, text, json };
}

async function getToken(origin, client) {
  const res = await call(origin, 'POST', '/oauth/token', {
    body: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret, audience: `${origin}/api/v2/` },
  });
  assert.equal(res.status, 200, res.text);
  return res.json.access_token;
}

/** A started emulator with `users` generated users (seed.js) and a token of its M2M client. */
async function seeded(users, opts = {}, fixture = seedFixture()) {
  const emu = new TenantEmulator(fixture, { seed: { users }, ...opts });
  const origin = await emu.start();
  const token = await getToken(origin, fixture.clients[0]);
  return { emu, origin, token, fixture, stop: () => emu.stop() };
}

function check(validate, value, what) {
  assert.ok(validate(value), `${what} does not conform: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`);
}

/** A request body we send, against the operation's JSON requestBody schema (or its verdict). */
function requestConforms(template, method, body) {
  return schemaAt(ptr('paths', template, method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema'))(body);
}
function assertValidRequest(template, method, body) {
  operation(template, method);
  assert.ok(requestConforms(template, method, body), `request body of ${method} ${template} does not conform: ${JSON.stringify(body)}`);
}

/**
 * A reply against the spec: its status documented for the operation; an error carries
 * Auth0's error body; a documented JSON body validates; an undocumented body is empty.
 */
function assertConforms(res, template, method) {
  const op = operation(template, method);
  const resp = op.responses[String(res.status)];
  assert.ok(resp, `${method} ${template}: status ${res.status} is not documented in the spec (${res.text.slice(0, 300)})`);
  assert.match(res.headers.get('content-type') || '', /^application\/json\b/, 'content type');
  if (res.status >= 400) {
    check(API_ERROR, res.json, `error body of ${method} ${template} (${res.status})`);
    assert.equal(res.json.statusCode, res.status);
    return;
  }
  if (!resp.content) {
    assert.equal(res.text, '', `${res.status} without a documented body must have an empty body`);
    return;
  }
  check(schemaAt(ptr('paths', template, method.toLowerCase(), 'responses', res.status, 'content', 'application/json', 'schema')),
    res.json, `response of ${method} ${template} (${res.status})`);
}

function assertApiError(res, status, errorCode) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  check(API_ERROR, res.json, `error body (${status})`);
  if (errorCode !== undefined) assert.equal(res.json.errorCode, errorCode);
}

module.exports = { call, getToken, seeded, check, requestConforms, assertValidRequest, assertConforms, assertApiError, enc: encodeURIComponent };
