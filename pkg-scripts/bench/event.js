'use strict';
// A post-login event and api shaped as the emulator's runner builds them, without an emulator
// (no server, no Node modules beyond the runner's cache): for the cold-start children and the
// warm loop. Kept dependency-free so a cold child loads as little harness as possible.

const RETURNING = 'google-oauth2|100000000000000000042'; // Alan: Google, 12 logins, holds Premium User

/**
 * @param {object} secrets event.secrets
 * @param {object} cache api.cache (an ActionCache)
 * @param {object} [user] {user_id, logins_count, roles}: default a returning Google user who
 *   holds "Premium User"; pass logins_count 1 and roles [] for a Google sign-up
 */
function loginEvent(secrets, cache, user = {}) {
  const userId = user.user_id || RETURNING;
  const event = {
    user: {
      user_id: userId,
      email: `${userId.split('|')[1]}@gmail.com`,
      email_verified: true,
      name: 'Bench User',
      created_at: '2024-01-01T00:00:00.000Z',
      updated_at: '2024-01-01T00:00:00.000Z',
      app_metadata: {},
      user_metadata: {},
      identities: [{ provider: 'google-oauth2', connection: 'google-oauth2', user_id: userId.split('|')[1], isSocial: true }],
    },
    connection: { id: 'con_google', name: 'google-oauth2', strategy: 'google-oauth2', metadata: {} },
    tenant: { id: 'local-emulator' },
    request: { ip: '127.0.0.1', hostname: '127.0.0.1', language: 'en' },
    secrets: { ...secrets },
    client: { client_id: 'web-app-client', name: 'Web App', metadata: {} },
    stats: { logins_count: user.logins_count || 13 },
    authorization: { roles: user.roles || ['Premium User'] },
    transaction: { protocol: 'oidc-basic-profile', requested_scopes: ['openid', 'profile', 'email'], locale: 'en' },
  };
  const rec = { denied: false, idClaims: {}, accessClaims: {}, appMetadata: {} };
  const api = {
    access: { deny: (reason) => { rec.denied = true; rec.denyReason = reason; return api; } },
    idToken: { setCustomClaim: (k, v) => { rec.idClaims[k] = v; return api; } },
    accessToken: { setCustomClaim: (k, v) => { rec.accessClaims[k] = v; return api; } },
    user: {
      setAppMetadata: (k, v) => { rec.appMetadata[k] = v; return api; },
      setUserMetadata: () => api,
    },
    multifactor: { enable: () => api },
    cache,
  };
  return { event, api, rec };
}

module.exports = { loginEvent, RETURNING };
