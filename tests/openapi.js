'use strict';
// The Management API OpenAPI subset for tests: the spec document registered whole in ajv (so
// its `#/components/schemas/X` refs resolve), schemas addressed by JSON pointer, and Auth0's
// error body shape. tests/fixtures holds a verbatim copy of shared/reference's file so a clean
// clone can run the tests.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020');

const SPEC_FILE = process.env.MGMT_API_SPEC || path.join(__dirname, 'fixtures/management-api-v2.subset.openapi.json');
const SPEC = JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8'));
const SPEC_ID = 'https://emulator.test/management-api-v2.subset.openapi.json';

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
ajv.addFormat('date-time', (s) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(s) && !Number.isNaN(Date.parse(s)));
// Auth0's own formats (not JSON Schema's): accepted as is, the emulator never produces them.
for (const f of ['client-id', 'user-id', 'user-id-with-max-length', 'organization-id', 'strict-uri', 'url', 'credential-id', 'connection-profile-id',
  'user-attribute-profile-id', 'ec-initiate-login-uri-template-url', 'absolute-https-uri-or-empty',
  'absolute-https-uri-with-placeholders-or-empty']) ajv.addFormat(f, true);
ajv.addSchema({ ...SPEC, $id: SPEC_ID });

/** Auth0's error body: `{statusCode, error, message, errorCode?}`. */
const API_ERROR = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer', minimum: 400, maximum: 599 },
    error: { type: 'string', minLength: 1 },
    message: { type: 'string' },
    errorCode: { type: 'string', minLength: 1 },
  },
});

/** A JSON pointer from its parts (escaping `~` and `/`). */
const ptr = (...parts) => parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

const compiled = new Map();
/** The compiled validator of the schema at `pointer` inside the spec. */
function schemaAt(pointer) {
  if (!compiled.has(pointer)) compiled.set(pointer, ajv.compile({ $ref: `${SPEC_ID}#/${pointer}` }));
  return compiled.get(pointer);
}

/** The spec's operation for a path template (relative to the /api/v2 server) and method. */
function operation(template, method) {
  const op = SPEC.paths[template] && SPEC.paths[template][method.toLowerCase()];
  assert.ok(op, `spec has no operation ${method} ${template}`);
  return op;
}

module.exports = { SPEC, SPEC_ID, ajv, API_ERROR, ptr, schemaAt, operation };
