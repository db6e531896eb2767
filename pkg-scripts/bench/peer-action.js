// The benchmark's peer: the same job as dist/action.js with the seed policy ("everyone who signs
// up with Google gets the Premium User role"), written as a competent Auth0 user writes it after
// Auth0's support article "Add a Default Role to a New User on First Login": a guard on
// `logins_count === 1`, `require('auth0')` and a new ManagementClient on each execution that
// passes the guard, the role looked up by name (the article hard-codes the role id), one
// assignment, and a try/catch that logs and lets the login proceed. SDK defaults throughout
// (retries, timeouts, telemetry).
//
// Deploy with the dependency `auth0` (7.1.0, the newest major on npm) and the secrets
// `domain`, `clientId`, `clientSecret`.
'use strict';

const ROLE_NAME = 'Premium User';

exports.onExecutePostLogin = async (event, api) => {
  if (event.connection.strategy !== 'google-oauth2' || event.stats.logins_count !== 1) {
    return;
  }

  const { ManagementClient } = require('auth0');

  const management = new ManagementClient({
    domain: event.secrets.domain,
    clientId: event.secrets.clientId,
    clientSecret: event.secrets.clientSecret,
    ...benchTransport(event.secrets),
  });

  try {
    // name_filter is a substring match: pick the role whose name is exactly ROLE_NAME.
    const { data: roles } = await management.roles.list({ name_filter: ROLE_NAME });
    const role = roles.find((r) => r.name === ROLE_NAME);
    if (!role) {
      console.log(`role "${ROLE_NAME}" not found`);
      return;
    }
    await management.users.roles.assign(event.user.user_id, { roles: [role.id] });
  } catch (e) {
    console.log(e);
    // Handle error: the login proceeds without the role.
  }
};

// Bench only, inert on a real tenant (no EMULATOR_ORIGIN secret there): the SDK builds
// https://<domain> URLs and the local tenant emulator speaks http on 127.0.0.1, so the SDK's own
// `fetch` option sends requests for that origin to the emulator, unchanged otherwise.
function benchTransport(secrets) {
  const to = secrets.EMULATOR_ORIGIN;
  if (!to) return {};
  const from = `https://${secrets.domain}/`;
  return {
    fetch: (url, init) => {
      const u = String(url);
      return fetch(u.startsWith(from) ? `${to}/${u.slice(from.length)}` : url, init);
    },
  };
}
