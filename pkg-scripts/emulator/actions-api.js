'use strict';
// The emulator's Actions endpoints (GET|POST /api/v2/actions/actions, ...), mounted by
// server.js: `routes` are [method, path RegExp, handler name, scopes], and `handlers` are
// methods mixed into TenantEmulator (they receive (params, query, body) and return
// {status, body, headers?}).
module.exports = { routes: [], handlers: {} };
