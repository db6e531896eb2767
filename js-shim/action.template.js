'use strict';
// Auth0 Action: provisions access (roles, claims) from a declarative policy, in Rust/wasm.
// The decisions and Management API calls run in Rust compiled to WebAssembly, embedded below
// (brotli, then the text encoding of unpack()). Only the lines naming the Action, its secrets
// and its build survive minification (build.js), so each of them must read on its own.
// Secrets: AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, POLICY (optional: TIMEOUT_MS).
// Built by pkg-scripts/build.js from /*@VERSION@*/; do not edit by hand.

const { brotliDecompressSync } = require('node:zlib');

const BAKED_POLICY = /*@POLICY@*/null;
// The reason given when provisioning fails under on_error: deny (src/bindings/execute.rs).
const DENY_REASON = /*@DENY_REASON@*/'';
// The wasm runs its own deadline (TIMEOUT_MS, at most 15 s); this watchdog only guards
// against an execution that never settles, inside Auth0's 20 s flow limit.
const WATCHDOG_MS = 16000;

// The wasm, brotli-compressed, as text (pkg-scripts/lib/embed.js): every 47 bits are one
// block of 7 bytes of UTF-8, printable ASCII without '"' and '\\', 1,351 two-byte letters and
// 16,384 three-byte CJK ideographs, all left alone by Unicode normalisation; the block's rank
// among all such blocks is the number. 1.19 bytes per byte (base64 1.33, Z85 1.25). The loop
// is a wasm module of its own (js-shim/unpack.wat): in JS, V8's interpreter took ~10 ms of the
// cold start for it.
function unpack(text, length) {
  const { m, u } = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(/*@UNPACK_WASM@*/'', 'base64'))).exports;
  const at = 0x2100;
  const out = at + 2 * text.length;
  m.grow(Math.ceil((out + length + 47) / 65536) - 1);
  new Uint8Array(m.buffer).set(Buffer.from(text, 'utf16le'), at);
  u(at, out, out);
  return new Uint8Array(m.buffer, out, length);
}

// Double quotes: the text holds ' but never " (build.js checks that terser keeps it verbatim).
// eslint-disable-next-line @stylistic/quotes
const wasmModule = new WebAssembly.Module(brotliDecompressSync(unpack("/*@WASM@*/", /*@WASMLEN@*/0)));

// One wasm instance per warm container, replaced after a trap (a trap can leave the
// instance's memory inconsistent, so it is never called again).
let current = null;

// The event reader's one-call value classifier, imported by the glue (js-shim/value-kind.js).
/*@VALUE_KIND@*/

function instantiate() {
  /*@GLUE@*/
  wasm_bindgen.initSync({ module: wasmModule });
  return wasm_bindgen;
}

function poison(state, err) {
  if (current === state) current = null;
  state.dead = true;
  const runs = [...state.runs];
  state.runs.clear();
  for (const run of runs) run.fail(err);
}

function instance() {
  if (!current) {
    const state = { runs: new Set(), waiting: new Map(), tail: null };
    state.exports = instantiate();
    current = state;
  }
  return current;
}

// Instantiate at module scope, once per container, so the first login does not pay for it; a
// failure here is retried (and reported) by the first execution.
try {
  instance();
} catch (_) {
  current = null;
}

// Mirrors the Rust side (policy_parse::on_error_of): a blank POLICY falls back to the baked
// policy; absent or null → allow; anything but "allow" → deny. Never throws (the event may
// be hostile: a throwing getter on secrets reads as no secret).
function onErrorOf(event) {
  let text = BAKED_POLICY;
  try {
    const secret = event.secrets.POLICY;
    if (typeof secret === 'string' && secret.trim()) text = secret;
  } catch (_) { /* no readable secret: the baked policy decides */ }
  try {
    const p = JSON.parse(text);
    return p && p.on_error != null && p.on_error !== 'allow' ? 'deny' : 'allow';
  } catch (_) {
    return 'allow';
  }
}

// The execution's view of Auth0's api: once the execution has ended every method does
// nothing, so work left running by a trapped instance or after the watchdog has no effect.
function revocable(target, live) {
  return new Proxy(target, {
    get(t, k) {
      const v = Reflect.get(t, k);
      if (typeof v === 'function') return (...args) => (live() ? v.apply(t, args) : undefined);
      return v !== null && typeof v === 'object' ? revocable(v, live) : v;
    },
  });
}

// The outcome when the wasm itself failed (trap, watchdog): log one line, apply on_error.
function internalFailure(trigger, event, api, err) {
  const onError = onErrorOf(event);
  // A thrown value or an api whose getters throw (what may have failed the wasm) must not
  // throw again here: this runs in a promise callback, where a throw would leave the
  // execution unresolved and reject where nobody listens.
  let what;
  try {
    what = String((err && (err.name + ': ' + err.message)) || err).slice(0, 120);
  } catch (_) {
    what = 'a value that cannot be described was thrown';
  }
  console.log(`provision error: internal failure on_error=${onError}: ${what}`);
  let denied = false;
  if (onError === 'deny' && trigger === 'post-login' && api) {
    try { api.access.deny(DENY_REASON); denied = true; } catch (_) { /* best effort */ }
  }
  return { error: 'internal failure: ' + what, denied };
}

// ---- the network side of an execution (src/bindings/tape.rs) ----------------------------
// The wasm decides and runs synchronously; when it must wait it returns an ask, carried out
// here and answered through resume(): a fetch, a sleep, a turn at the gate, or a wait for a
// look-up another execution leads. Nothing here decides what to send or whether to retry.

const MAX_BODY = 1 << 20; // larger replies are not the API we talk to (src/bindings/http.rs)
const RATE_HEADERS = ['retry-after', 'x-ratelimit-reset', 'x-ratelimit-remaining', 'x-ratelimit-limit'];

// The body as text, counted; null (the rest cancelled) once it is over MAX_BODY bytes.
async function readBody(resp) {
  const stream = resp.body;
  if (!stream) return '';
  const reader = stream.getReader();
  if (Number(String(resp.headers.get('content-length')).trim()) > MAX_BODY) return reader.cancel().then(() => null);
  const utf8 = new TextDecoder();
  let text = '';
  let read = 0;
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) return text + utf8.decode();
    read += chunk.value.length;
    if (read > MAX_BODY) return reader.cancel().then(() => null);
    text += utf8.decode(chunk.value, { stream: true });
  }
}

// The execution's abort signal, made on its first fetch (a DOMException per abort() made it a
// tenth of a warm no-network login): aborted when the execution ends, however it ends.
function endedSignal(run) {
  if (!run.ended) run.ended = new AbortController();
  return run.ended.signal;
}

async function send(ask, run) {
  if (run.done) return { error: 'timeout' };
  const ended = endedSignal(run);
  // Both signals are held here until the reply is read: Node holds an AbortSignal.timeout
  // weakly, and a collected one never fires (seen: requests hanging until the watchdog).
  const timeout = AbortSignal.timeout(ask.timeout);
  const signal = AbortSignal.any ? AbortSignal.any([ended, timeout]) : timeout;
  try {
    const resp = await fetch(ask.fetch, { method: ask.method, headers: ask.headers, body: ask.body, redirect: 'error', signal });
    const headers = RATE_HEADERS.map((n) => resp.headers.get(n));
    return { status: resp.status, headers, text: await readBody(resp), held: [timeout, signal] };
  } catch (e) {
    const name = e && e.name;
    return name === 'TimeoutError' || name === 'AbortError' ? { error: 'timeout' } : { error: 'network', cause: e };
  }
}

// Frees the gate place the execution holds (taken by its last queue ask).
function free(run) {
  if (run.release) run.release();
  run.release = null;
}

// A place at the gate, first come first served; true once the one before is done, false when
// the budget ran out first (then the place is passed on only when the one before is done).
function queue(state, run, budget) {
  const prev = state.tail;
  let release;
  state.tail = new Promise((r) => { release = () => r(true); });
  run.release = release;
  if (!prev) return true;
  let timer;
  const late = new Promise((r) => { timer = setTimeout(r, budget, false); });
  if (timer.unref) timer.unref();
  return Promise.race([prev, late]).then((turn) => {
    clearTimeout(timer);
    if (turn !== true) {
      run.release = null;
      prev.then(release);
    }
    return turn === true;
  });
}

function wake(state, keys) {
  for (const k of keys || []) {
    const waiters = state.waiting.get(k) || [];
    state.waiting.delete(k);
    for (const w of waiters) w(true);
  }
}

function answer(state, run, ask) {
  if (ask.fetch !== undefined) return send(ask, run);
  if (ask.sleep !== undefined) return new Promise((r) => setTimeout(r, ask.sleep, true));
  free(run);
  if (ask.queue !== undefined) return queue(state, run, ask.queue);
  return new Promise((r) => {
    if (!state.waiting.has(ask.wait)) state.waiting.set(ask.wait, []);
    state.waiting.get(ask.wait).push(r);
  });
}

async function drive(state, run, r) {
  while (r && r.ask) {
    run.id = r.run;
    wake(state, r.woken);
    const fetched = r.ask.fetch !== undefined;
    const a = await answer(state, run, r.ask);
    if (run.done || state.dead) return null;
    r = state.exports.resume(r.run, a);
    // Only a wasm that lost a waiting execution answers null: nothing it holds is trusted.
    if (r === null) throw new Error('the wasm lost a waiting execution');
    // The gate place goes only once the wasm has read the reply's rate-limit headers: the
    // next in line must see the gate as this reply left it.
    if (fetched) free(run);
  }
  return r;
}

function execute(trigger, event, api) {
  return new Promise((resolve) => {
    let state;
    let done = false;
    let timer;
    // A failure is handled through a reaction registered here, so its log line belongs to
    // this execution's async context even when another execution's trap reports it.
    let fail;
    new Promise((r) => { fail = r; }).then((err) => {
      if (!done) finish(internalFailure(trigger, event, api, err));
    });
    const run = { fail, id: 0, release: null, done: false, ended: null };
    function finish(outcome) {
      if (done) return;
      done = run.done = true;
      // Its fetches stop, none start.
      if (run.ended) run.ended.abort();
      clearTimeout(timer);
      free(run);
      if (state) {
        state.runs.delete(run);
        // Shared work it led and left unfinished is settled (with an error) for its waiters.
        if (run.id && !state.dead) {
          try { wake(state, state.exports.forget(run.id)); } catch (e) { poison(state, e); }
        }
      }
      resolve(outcome);
    }
    function finished(r) {
      // The wasm gives its outcome as JSON text (one string instead of a dozen property sets).
      const outcome = typeof r === 'string' ? JSON.parse(r) : r;
      // The wasm's log lines (a member only when there are any) are written only while the
      // execution is live.
      if (outcome && outcome.logs !== undefined) {
        if (!done && Array.isArray(outcome.logs)) for (const line of outcome.logs) console.log(line);
        delete outcome.logs;
      }
      finish(outcome);
    }
    try {
      state = instance();
      state.runs.add(run);
      const live = () => !done;
      const view = api !== null && typeof api === 'object' ? revocable(api, live) : api;
      // The outcome (JSON text) when no request is needed, else the first ask.
      const first = state.exports.execute(trigger, event, view, BAKED_POLICY);
      // Finished within this call (a returning user): nothing is left to watch or drive.
      if (typeof first === 'string') return finished(first);
      timer = setTimeout(() => run.fail(new Error('no result within ' + WATCHDOG_MS + ' ms')), WATCHDOG_MS);
      drive(state, run, first).then(finished, (e) => poison(state, e));
    } catch (e) {
      if (state) poison(state, e);
      else run.fail(e);
    }
  });
}

exports.onExecutePostLogin = async (event, api) => execute('post-login', event, api);
exports.onExecutePostUserRegistration = async (event, api) => execute('post-user-registration', event, api);
