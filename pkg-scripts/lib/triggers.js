'use strict';
// The Actions the tools make of dist/action.js: one per trigger (an Auth0 Action targets a
// single trigger), their names and their runtime.
const { UsageError } = require('./errors.js');

const RUNTIME = 'node22';
const DEFAULT_NAME = 'provision-access';
/** The triggers dist/action.js serves, with the trigger version its handler is written for. */
const TRIGGERS = {
  'post-login': { version: 'v3', handler: 'onExecutePostLogin' },
  'post-user-registration': { version: 'v2', handler: 'onExecutePostUserRegistration' },
};

/** post-login gets NAME, the other triggers NAME-<trigger>. */
function actionName(base, trigger) {
  return trigger === 'post-login' ? base : `${base}-${trigger}`;
}

function checkName(name) {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$/.test(name)) {
    throw new UsageError(`--name ${JSON.stringify(name)}: use 1-60 letters, digits, '.', '_' or '-' (starting with a letter or digit)`);
  }
  return name;
}

/** The --trigger values (post-login when none), each once, in the order given. */
function triggersOf(list = []) {
  const ts = list.length ? [...new Set(list)] : ['post-login'];
  for (const t of ts) {
    if (!Object.hasOwn(TRIGGERS, t)) throw new UsageError(`--trigger ${t}: must be one of ${Object.keys(TRIGGERS).join(', ')}`);
  }
  return ts;
}

module.exports = { RUNTIME, DEFAULT_NAME, TRIGGERS, actionName, checkName, triggersOf };
