#!/usr/bin/env node
// Builds dist/action.js: Rust → wasm (cargo) → JS glue (wasm-bindgen, exact version) →
// size-optimised wasm (wasm-opt -Oz) → brotli, as text (lib/embed.js) in the CommonJS shim → terser.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { parseCommandLine } = require('./lib/args.js');
const { readPolicyFile, compactPolicy } = require('./lib/policy-input.js');
const { CODE_LIMIT: LIMIT } = require('./lib/action-code.js');
const embed = require('./lib/embed.js');
const { rankNames } = require('./lib/wasm-order.js');

const ROOT = path.resolve(__dirname, '..');
const TARGET = 64000; // our own budget (issue 14: 64,000 bytes)

const USAGE = `Usage: node pkg-scripts/build.js [--policy FILE] [--out FILE] [--features test-hooks] [--names]

  --policy FILE     bake FILE in as the policy used when no POLICY secret is set
  --out FILE        write the Action there (default dist/action.js)
  --features F      cargo features of the wasm build (test-hooks: the trap-recovery tests' hooks)
  --names           keep wasm function names and JS names (for profiles: node --cpu-prof); larger
`;

function run(cmd, args, opts = {}) {
  execFileSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
}

function bakedPolicy(file) {
  if (!file) return 'null';
  // Kept as the author's text (re-serialised compactly); validated by the wasm at run time
  // exactly like a POLICY secret.
  return JSON.stringify(compactPolicy(readPolicyFile(file, '--policy'), `--policy ${file}`));
}

const escapeRe = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The u16 values of unpack.wat's data segment, as JSON (compared with embed.js TWO_RANGES). */
function unpackRanges(wat) {
  const m = /\(data \(i32\.const 0\) "((?:\\[0-9a-f]{2})*)"\)/.exec(wat);
  if (!m) return null;
  const bytes = m[1].slice(1).split('\\').map((h) => parseInt(h, 16));
  const out = [];
  for (let i = 0; i < bytes.length; i += 2) out.push(bytes[i] | (bytes[i + 1] << 8));
  return JSON.stringify(out);
}

/**
 * Applies wasm-opt's import/export renaming to the glue: import keys, the import module name
 * and every `wasm.<export>` use. Fails the build if an old name survives or the result does
 * not match the module's real imports and exports.
 */
function renameGlue(glue, mappingText, wasmFile) {
  const map = JSON.parse(mappingText.slice(mappingText.indexOf('{')));
  const module = new WebAssembly.Module(fs.readFileSync(wasmFile));
  const newModules = [...new Set(WebAssembly.Module.imports(module).map((i) => i.module))];
  const oldModules = [...new Set(map.imports.map(([m]) => m))];
  if (newModules.length !== 1 || oldModules.length !== 1) throw new Error('expected one import module');
  let out = glue.replace(`"${oldModules[0]}": import0`, () => `"${newModules[0]}": import0`);
  for (const [, oldName, newName] of map.imports) {
    const re = new RegExp(`\\b${escapeRe(oldName)}:`, 'g');
    if ((out.match(re) || []).length !== 1) throw new Error(`glue import ${oldName} not found exactly once`);
    out = out.replace(re, () => `${JSON.stringify(newName)}:`);
  }
  for (const [oldName, newName] of map.exports) {
    out = out.replace(new RegExp(`\\bwasm\\.${escapeRe(oldName)}\\b`, 'g'), () => `wasm[${JSON.stringify(newName)}]`);
  }
  const survivors = [
    ...map.imports.map((i) => new RegExp(`\\b${escapeRe(i[1])}\\b`)),
    ...map.exports.map((e) => new RegExp(`\\bwasm\\.${escapeRe(e[0])}\\b`)),
  ].filter((re) => re.test(out));
  if (survivors.length) throw new Error(`glue still uses ${survivors[0].source} after renaming`);
  if (!out.includes(`"${newModules[0]}": import0`)) throw new Error('glue import module not renamed');
  return out;
}

/**
 * Drops two pieces of browser/compatibility code terser cannot prove dead: the script-URL
 * lookup (only the async loader used it; we compile from the embedded bytes) and initSync's
 * positional-argument fallback (the shim always passes `{ module }`). Fails the build if the
 * glue no longer has them verbatim, so a wasm-bindgen upgrade cannot silently keep or break them.
 */
function trimGlue(glue) {
  const cuts = [
    // The DataView over wasm memory (every number or string read from JS writes its result
    // through it) is checked by two getters per use (`buffer.detached`): a tenth of a warm
    // login. It is rebuilt instead when the Uint8Array view is, whose own check (`byteLength
    // === 0`: memory grew, detaching the buffer) V8 inlines.
    [/\n {4}let cachedDataViewMemory0 = null;\n {4}function getDataViewMemory0\(\) \{\n {8}if \(cachedDataViewMemory0 === null \|\| cachedDataViewMemory0\.buffer\.detached === true \|\| \(cachedDataViewMemory0\.buffer\.detached === undefined && cachedDataViewMemory0\.buffer !== wasm\.memory\.buffer\)\) \{\n {12}cachedDataViewMemory0 = new DataView\(wasm\.memory\.buffer\);\n {8}\}\n/,
      `
    let cachedDataViewMemory0 = null;
    let cachedDataViewBytes = null;
    function getDataViewMemory0() {
        const bytes = getUint8ArrayMemory0();
        if (cachedDataViewMemory0 === null || cachedDataViewBytes !== bytes) {
            cachedDataViewMemory0 = new DataView(bytes.buffer);
            cachedDataViewBytes = bytes;
        }
`],
    [/\n {4}if \(typeof document !== 'undefined' && document\.currentScript !== null\) \{\n.*\n {4}\}\n/, '\n'],
    // Every call passes a realloc (checked below), and every Node since 12 has encodeInto.
    [/\n {8}if \(realloc === undefined\) \{\n(?: {12}.*\n){5} {8}\}\n/, '\n'],
    [/\n {4}if \(!\('encodeInto' in cachedTextEncoder\)\) \{\n(?: {8}.*\n){8} {4}\}\n/, '\n'],
    [/\n {8}if \(module !== undefined\) \{\n {12}if \(Object\.getPrototypeOf\(module\) === Object\.prototype\) \{\n {16}\(\{module\} = module\)\n {12}\} else \{\n.*\n {12}\}\n {8}\}\n/,
      '\n        ({ module } = module);\n'],
  ];
  const passes = glue.match(/passStringToWasm0\([^)]*\)/g) || [];
  if (passes.some((c) => !c.includes('wasm.__wbindgen_realloc') && !c.startsWith('passStringToWasm0(arg,'))) {
    throw new Error('wasm-bindgen glue passes a string without realloc: keep passStringToWasm0\'s encode() branch (build.js trimGlue)');
  }
  for (const [re, by] of cuts) {
    if (!re.test(glue)) throw new Error(`wasm-bindgen glue changed shape: ${re.source.slice(0, 60)}… not found (build.js trimGlue)`);
    glue = glue.replace(re, by);
  }
  return wrapOnce(glue);
}

/**
 * Imports that may throw are `function() { return handleError(function (…) {…}, arguments); }`:
 * a new closure at every call, and the same 40 characters fourteen times. They become
 * `handleError(function (…) {…})`, with handleError making the catching wrapper once
 * (−0.4 kB, and no allocation per call). Fails the build when the glue has another shape.
 */
function wrapOnce(glue) {
  const open = 'function() { return handleError(function (';
  const close = '}, arguments); },';
  const n = glue.split(open).length - 1;
  const define = /\n {4}function handleError\(f, args\) \{\n {8}try \{\n {12}return f\.apply\(this, args\);\n {8}\} catch \(e\) \{\n((?: {12}.*\n){2}) {8}\}\n {4}\}\n/;
  if (n === 0 || glue.split(close).length - 1 !== n || !define.test(glue) || /handleError\((?!function \()/.test(glue.replace(define, ''))) {
    throw new Error('wasm-bindgen glue changed shape: handleError imports (build.js wrapOnce)');
  }
  return glue.split(open).join('handleError(function (').split(close).join('}),')
    .replace(define, (_, body) => `
    function handleError(f) {
        return function () {
            try {
                return f.apply(this, arguments);
            } catch (e) {
${body.replace(/^/gm, '    ').trimEnd()}
            }
        };
    }
`);
}

async function main() {
  const { values: args } = parseCommandLine('build', USAGE, {
    policy: { type: 'string' }, out: { type: 'string' }, features: { type: 'string' }, names: { type: 'boolean' },
  });
  const out = path.resolve(ROOT, args.out || 'dist/action.js');
  const policy = bakedPolicy(args.policy);
  const env = { ...process.env, PATH: `${process.env.HOME}/.cargo/bin:${process.env.PATH}` };

  const features = args.features;
  // `bare`: no_std with a trapping panic handler (Cargo.toml), always on for the Action.
  run('cargo', ['build', '--quiet', '--release', '--target', 'wasm32-unknown-unknown', '--lib',
    '--features', ['bare', features].filter(Boolean).join(',')], { env });
  const gen = path.join(ROOT, 'target', features ? `bindgen-${features}` : 'bindgen');
  fs.rmSync(gen, { recursive: true, force: true });
  run('wasm-bindgen', ['--target', 'no-modules', '--no-typescript', '--out-dir', gen, '--out-name', 'glue',
    path.join(ROOT, 'target/wasm32-unknown-unknown/release/auth0_provision.wasm')], { env });
  const raw = path.join(gen, 'glue_bg.wasm');
  const opt = path.join(gen, 'opt.wasm');
  // wasm-opt from the npm `binaryen` package (pinned in package-lock.json): Debian's v108
  // mis-numbers the externref table export that wasm-bindgen's glue relies on.
  // --minify-imports-and-exports-and-modules renames the ~80 long hashed import/export names
  // (`__wbg_fetch_fc888bdf22d9a1fe`, ...) to one or two letters and prints the mapping, which
  // renameGlue applies to the JS glue.
  // -Oz twice around --gufa (whole-program type flow) until nothing changes; Rust's wasm
  // leaves the first 1 kB of memory unused and a fresh instance's memory is zero-filled. The
  // renaming runs alone afterwards: under --converge it would print (and apply) it again.
  const wasmOpt = (args) => execFileSync(process.execPath, [require.resolve('binaryen/bin/wasm-opt'), ...args],
    { cwd: ROOT, env, encoding: 'utf8' });
  const optimised = path.join(gen, 'optimised.wasm');
  // -ocimfs=25: a function with one caller is inlined only when it is at most 25 bytes (by
  // default always). The wasm grows ~2.5 kB but brotli shrinks ~2.4 kB (the callee's code stays
  // one repeated shape instead of being renumbered into every caller; measured 22–28 best, 0
  // and 150 worse), and the first call compiles less code it does not run.
  wasmOpt(['--one-caller-inline-max-function-size=25', '-Oz', '--converge', '--gufa', '-Oz', '--low-memory-unused', '--zero-filled-memory', '--debuginfo',
    '--strip-producers', '-o', optimised, raw]);
  // Functions laid out so that alike ones are neighbours in brotli's window (lib/wasm-order.js:
  // −1.2 kB of brotli); a --names build keeps its names (and binaryen's order) for profiles.
  const ranked = path.join(gen, 'ranked.wasm');
  if (!args.names) fs.writeFileSync(ranked, rankNames(fs.readFileSync(optimised)));
  const layout = args.names ? ['--debuginfo'] : ['--reorder-functions-by-name', '--strip-debug'];
  const mapping = wasmOpt([...layout, '--strip-target-features', '--minify-imports-and-exports-and-modules', '-o', opt,
    args.names ? optimised : ranked]);

  const wasm = fs.readFileSync(opt);
  // The shim's decoder of the embedded text, a wasm module of its own (js-shim/unpack.wat).
  const unpackWasm = path.join(gen, 'unpack.wasm');
  // Its data segment is embed.js's two-byte ranges, as u16 pairs.
  if (unpackRanges(fs.readFileSync(path.join(ROOT, 'js-shim/unpack.wat'), 'utf8')) !== JSON.stringify(embed.TWO_RANGES.flat())) {
    throw new Error("js-shim/unpack.wat's data segment is not pkg-scripts/lib/embed.js TWO_RANGES");
  }
  execFileSync(process.execPath, [require.resolve('binaryen/bin/wasm-as'), path.join(ROOT, 'js-shim/unpack.wat'), '-o', unpackWasm],
    { cwd: ROOT, env });
  wasmOpt(['-Oz', '--strip-debug', '--strip-producers', '-o', unpackWasm, unpackWasm]);
  const br = zlib.brotliCompressSync(wasm, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: wasm.length,
    },
  });
  const rawGlue = fs.readFileSync(path.join(gen, 'glue.js'), 'utf8');
  // Only initSync is used (the module is compiled from the embedded bytes): returning it alone
  // lets terser drop the async fetch/instantiateStreaming loader.
  const ASYNC_EXPORT = 'return Object.assign(__wbg_init, { initSync }, exports);';
  if (!rawGlue.includes(ASYNC_EXPORT)) throw new Error('wasm-bindgen glue changed shape: re-check the initSync-only export in build.js');
  const glue = renameGlue(trimGlue(rawGlue.replace(ASYNC_EXPORT, 'return Object.assign({ initSync }, exports);')), mapping, opt);
  // No Rust futures (src/bindings/tape.rs): a trap always surfaces in the call that made it,
  // where the shim catches it. A glue that schedules work of its own needs a trap guard again.
  if (/\bqueueMicrotask\b/.test(glue)) {
    throw new Error('wasm-bindgen glue schedules microtasks again: a trap inside one would escape the shim (add a guard)');
  }
  const version = JSON.parse(execFileSync('cargo', ['metadata', '--no-deps', '--format-version', '1'],
    { cwd: ROOT, env, encoding: 'utf8' })).packages[0].version;
  const template = fs.readFileSync(path.join(ROOT, 'js-shim/action.template.js'), 'utf8');
  const encoded = embed.encode(br);
  // The shim's own deny (when the wasm itself failed) gives the reason the Rust side gives:
  // taken from the one definition, so the two can never differ.
  const rust = fs.readFileSync(path.join(ROOT, 'src/bindings/execute.rs'), 'utf8');
  const denyReason = (rust.match(/pub const DENY_REASON: &str = ("[^"\\]*");/) || [])[1];
  if (!denyReason || !template.includes("/*@DENY_REASON@*/''")) throw new Error('DENY_REASON not found in src/bindings/execute.rs or the shim');
  if (!['"/*@WASM@*/"', "/*@UNPACK_WASM@*/''"].every((p) => template.includes(p))) {
    throw new Error('the shim lost its unpack() placeholders');
  }
  // A module for the bindings' tests (wasm-pack), a plain function in the shipped file.
  const valueKind = fs.readFileSync(path.join(ROOT, 'js-shim/value-kind.js'), 'utf8').replace(/^export function /m, 'function ');
  if (!/^function provisionValueKind\(/m.test(valueKind) || !template.includes('/*@VALUE_KIND@*/')) {
    throw new Error('js-shim/value-kind.js or its place in the shim changed shape');
  }
  let code = template
    .replace("/*@UNPACK_WASM@*/''", () => JSON.stringify(fs.readFileSync(unpackWasm).toString('base64')))
    .replace("/*@DENY_REASON@*/''", () => denyReason)
    .replace('/*@VERSION@*/', `auth0-provision ${version}`)
    .replace('/*@POLICY@*/null', () => policy)
    .replace('/*@GLUE@*/', () => glue.trim())
    .replace('/*@VALUE_KIND@*/', () => valueKind)
    .replace('/*@WASMLEN@*/0', String(br.length))
    .replace('/*@WASM@*/', () => encoded);

  // terser is a build-time dev dependency only; the artefact requires nothing but node:zlib.
  const { minify } = require('terser');
  const min = await minify(code, {
    ecma: 2020,
    toplevel: true,
    // Function expressions that use neither `this` nor `arguments` become arrows, object
    // members `m: function` methods: −0.7 kB. Nothing in the shim or glue constructs one
    // with `new` (the only way either change could be observed).
    compress: { passes: 3, unsafe_arrows: true, unsafe_methods: true },
    mangle: !args.names,
    // inline_script off: terser would otherwise write `</` in the data as `<\/` (harmless to JS,
    // but the embedded wasm should stay byte-for-byte greppable).
    format: { comments: /Auth0 Action|Secrets:|Built by/, inline_script: false },
  });
  code = min.code + '\n';
  if (!code.includes(`"${encoded}"`)) throw new Error('the minified Action no longer embeds the encoded wasm verbatim');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, code);
  const size = Buffer.byteLength(code);
  console.log(`built ${path.relative(ROOT, out)}: ${size} bytes (${(size / 1024).toFixed(1)} KiB; wasm ${wasm.length} bytes, ` +
    `brotli ${br.length}; glue ${glue.length}) — limit ${LIMIT}, budget ${TARGET}`);
  if (args.names) {
    console.warn('note: --names build, for profiling only (not deployable as it is)');
    return;
  }
  if (size > LIMIT) {
    console.error(`FAIL: ${size} bytes exceeds Auth0's 100 kB Action code limit`);
    process.exit(1);
  }
  if (size > TARGET) console.warn(`warning: above the ${TARGET}-byte budget`);
  // `&s[..i]` on a str links the char-boundary panic, whose message formatting brings core's
  // Unicode printable tables (~2.7 kB of data): slice with `s.get(..i)` (src/core/text.rs).
  if (wasm.includes('is not a char boundary')) {
    console.warn('warning: the wasm links the str char-boundary panic (+~3 kB): a `&s[..i]` slice crept in; use `s.get(..i)`');
  }
}

main().catch((e) => {
  console.error(`build failed: ${e.message}`);
  process.exit(1);
});
