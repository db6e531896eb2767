'use strict';
// The errors the tools tell apart by exit code: a UsageError is a wrong command line (exit 2,
// the usage is printed), a ConfigError a setting to fix before anything is sent, a
// DeployError a run that could not finish against the tenant (a timeout, a failed build, a
// state we refuse to rewrite): the fix is waiting, re-running or a look at the tenant, not
// the configuration. Both of the last exit 1.

class UsageError extends Error {}
class ConfigError extends Error {}
class DeployError extends Error {}

/** The exit code of a usage error (as most command-line tools). */
const USAGE_EXIT = 2;

module.exports = { UsageError, ConfigError, DeployError, USAGE_EXIT };
