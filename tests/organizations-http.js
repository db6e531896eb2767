'use strict';
// Helpers for the organization endpoint tests (emulator-organizations*.test.js): the scopes
// those endpoints take, and reply checks where the OpenAPI subset cannot decide by itself.
const assert = require('node:assert/strict');
const { check, assertConforms, assertApiError } = require('./bulk-http.js');
const { schemaAt, ptr, operation } = require('./openapi.js');

/** Every scope an organization endpoint of the emulator checks. */
const ORG_SCOPES = [
  'read:organizations', 'read:organization_members', 'create:organization_members', 'delete:organization_members',
  'read:organization_member_roles', 'create:organization_member_roles', 'delete:organization_member_roles',
];

/**
 * A page whose shape matches two branches of the spec's oneOf (so no reply of that shape can
 * pass it): checked against the one branch it is, and the ambiguity asserted to still be there
 * (when the spec is fixed, this check should become a plain assertConforms).
 */
function assertAmbiguousPage(res, template, branch) {
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') || '', /^application\/json\b/);
  check(schemaAt(`components/schemas/${branch}`), res.json, `${template} page (${branch})`);
  const whole = schemaAt(ptr('paths', template, 'get', 'responses', '200', 'content', 'application/json', 'schema'));
  assert.equal(whole(res.json), false, `the oneOf ambiguity of ${template} this check works around is still in the spec`);
}

/**
 * A GET /organizations/{id}/members reply: the members checkpoint branch allows any other key,
 * so an include_totals page ({members, start, limit, total}) also matches two branches, as
 * does the last checkpoint page ({members}).
 */
function assertMembersPage(res) {
  const j = res.json;
  if (res.status !== 200 || Array.isArray(j) || (j && j.next !== undefined)) return assertConforms(res, '/organizations/{id}/members', 'get');
  const branch = j && j.start !== undefined ? 'ListOrganizationMembersOffsetPaginatedResponseContent' : 'ListOrganizationMembersPaginatedResponseContent';
  return assertAmbiguousPage(res, '/organizations/{id}/members', branch);
}

/** A GET /organizations reply: only the last checkpoint page ({organizations}) is ambiguous. */
function assertOrganizationsPage(res) {
  const j = res.json;
  if (res.status === 200 && j && !Array.isArray(j) && j.next === undefined && j.start === undefined) {
    return assertAmbiguousPage(res, '/organizations', 'ListOrganizationsPaginatedResponseContent');
  }
  return assertConforms(res, '/organizations', 'get');
}

/**
 * An error the emulator gives with a status the spec does not list for the operation (a 404
 * for an unknown organization on the member writes, see organizations-api.js): Auth0's error
 * body, and the status asserted to be undocumented still.
 */
function assertUndocumentedError(res, template, method, status) {
  assertApiError(res, status);
  assert.equal(res.json.statusCode, status);
  assert.match(res.headers.get('content-type') || '', /^application\/json\b/);
  assert.equal(operation(template, method).responses[String(status)], undefined, `${method} ${template} documents ${status} now: use assertConforms`);
}

module.exports = { ORG_SCOPES, assertAmbiguousPage, assertMembersPage, assertOrganizationsPage, assertUndocumentedError };
