'use strict';
// Command lines of every tool, split by node:util parseArgs. Its strict mode would take
// `--name --dry-run` as the name "--dry-run" and refuse `--wait -5` as ambiguous, so it runs
// non-strict and the tokens are checked here, each mistake named the way the tools always
// named it: `unknown option --x`, `--name needs a value`, `--dry-run takes no value`.
const util = require('node:util');
const { UsageError, USAGE_EXIT } = require('./errors.js');

/**
 * Parses `argv` by `options` (parseArgs' {name: {type: 'string' | 'boolean', multiple?}}).
 * Returns {values, positionals}; throws a UsageError on an unknown option, a missing or
 * unwanted value, or (unless `positionals`) any positional argument.
 */
function parseArgs(argv, options, { positionals = false } = {}) {
  const parsed = util.parseArgs({ args: argv, options, strict: false, tokens: true, allowPositionals: true });
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    const spec = Object.hasOwn(options, t.name) ? options[t.name] : null;
    if (!spec) throw new UsageError(`unknown option ${t.rawName}`);
    if (spec.type === 'boolean' && t.inlineValue) throw new UsageError(`${t.rawName} takes no value`);
    // `--name --dry-run`: the next option, not a value (`--name=--x` says it is one).
    if (spec.type === 'string' && (t.value === undefined || (!t.inlineValue && t.value.startsWith('--')))) {
      throw new UsageError(`${t.rawName} needs a value`);
    }
  }
  if (!positionals && parsed.positionals.length) throw new UsageError(`unexpected argument ${parsed.positionals[0]}`);
  return { values: parsed.values, positionals: parsed.positionals };
}

/** What a tool prints on a usage error: the mistake, then the usage. */
function usageMessage(tool, message, usage) {
  return `${tool}: ${message}\n\n${usage}`;
}

/**
 * The command line of a script run directly (build, burst, demo, bench): with `--help` the
 * usage is printed and the process exits 0; on a usage error the mistake and the usage go
 * to stderr and it exits 2, before the tool has done anything.
 */
function parseCommandLine(tool, usage, options, { argv = process.argv.slice(2), positionals = false } = {}) {
  try {
    const args = parseArgs(argv, { ...options, help: { type: 'boolean' } }, { positionals });
    if (args.values.help) {
      process.stdout.write(usage);
      process.exit(0);
    }
    return args;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(usageMessage(tool, e.message, usage));
    process.exit(USAGE_EXIT);
  }
}

module.exports = { parseArgs, parseCommandLine, usageMessage };
