'use strict';
// The text encoding of the embedded wasm (pkg-scripts/lib/embed.js) and the shim's decoder of
// it (js-shim/action.template.js unpack() over js-shim/unpack.wat), on data that reaches every
// symbol and both ends of the 47-bit range.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const embed = require('../pkg-scripts/lib/embed.js');
const { ROOT } = require('./helpers.js');

const LENGTHS = [0, 1, 2, 5, 6, 11, 46, 47, 48, 93, 94, 95, 4096, 65339];
const samples = () => [
  ...LENGTHS.map((n) => crypto.randomBytes(n)),
  Buffer.alloc(10, 0x00),
  Buffer.alloc(94, 0xff),
  // A fixed pattern besides the random ones.
  Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 37 + (i >> 3)) & 255)),
];

/** The shim's unpack(), its placeholders filled as build.js fills them, loaded as a module. */
function shimUnpack() {
  const template = fs.readFileSync(path.join(ROOT, 'js-shim/action.template.js'), 'utf8');
  const from = template.indexOf('function unpack(');
  const to = template.indexOf('\nconst wasmModule');
  assert.ok(from > 0 && to > from, 'unpack() not found in the shim');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embed-test-'));
  const wasm = path.join(dir, 'unpack.wasm');
  execFileSync(process.execPath, [require.resolve('binaryen/bin/wasm-as'), path.join(ROOT, 'js-shim/unpack.wat'), '-o', wasm]);
  const source = template.slice(from, to)
    .replace("/*@UNPACK_WASM@*/''", JSON.stringify(fs.readFileSync(wasm).toString('base64')));
  const file = path.join(dir, 'unpack.js');
  fs.writeFileSync(file, `'use strict';\n${source}\nmodule.exports = unpack;\n`);
  try {
    return require(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('encode/decode round-trip at 56 bytes of UTF-8 per 47 bytes (1.19)', () => {
  for (const buf of samples()) {
    const text = embed.encode(buf);
    assert.deepStrictEqual(embed.decode(text, buf.length), buf, `length ${buf.length}`);
    assert.strictEqual(Buffer.byteLength(text), Math.ceil(buf.length / 47) * 56);
  }
});

test('the text is safe in a "…" literal and unchanged by Unicode normalisation', () => {
  const text = embed.encode(Buffer.concat(samples()));
  assert.doesNotMatch(text, /["\\\p{Cc}\p{Cf}\p{Cn}\p{M}\p{Zl}\p{Zp}]/u);
  assert.strictEqual(text.normalize('NFC'), text);
  for (const c of embed.TWO) {
    const ch = String.fromCharCode(c);
    assert.strictEqual(Buffer.byteLength(ch), 2, ch);
    assert.strictEqual(ch.normalize('NFC'), ch, `U+${c.toString(16)}`);
    // Not composable with any neighbour either: none combines with printable ASCII or a letter.
    for (const other of ['a', 'e', String.fromCharCode(embed.TWO[0])]) {
      assert.strictEqual((other + ch).normalize('NFC'), other + ch);
    }
  }
  for (let i = 0; i < embed.THREE_COUNT; i++) {
    const ch = String.fromCharCode(embed.THREE_FIRST + i);
    assert.strictEqual(Buffer.byteLength(ch), 3, ch);
    assert.match(ch, /^\p{L}$/u);
    for (const form of ['NFC', 'NFD', 'NFKC', 'NFKD']) assert.strictEqual(ch.normalize(form), ch, `U+${(embed.THREE_FIRST + i).toString(16)} ${form}`);
  }
  // Every kind of symbol occurs in the text of the samples.
  const codes = new Set(Array.from(text, (c) => c.codePointAt(0)));
  assert.ok([...codes].some((c) => c < 0x80) && [...codes].some((c) => c >= 0x80 && c < 0x800) && [...codes].some((c) => c >= 0x800));
  assert.strictEqual(embed.TWO.length, 1351);
  assert.ok(embed.N[7] >= 2n ** 47n);
  assert.ok(embed.N[6] < 2n ** 47n, 'a block needs all 7 bytes');
});

test("the shim's unpack() decodes what build.js encodes", () => {
  const unpack = shimUnpack();
  for (const buf of samples()) {
    const got = unpack(embed.encode(buf), buf.length);
    assert.deepStrictEqual(Buffer.from(got), buf, `length ${buf.length}`);
  }
});

test("the shim's digits of every symbol are embed.js's (one block per symbol)", () => {
  const unpack = shimUnpack();
  const blocks = [];
  for (const c of embed.ONE) blocks.push(String.fromCharCode(c) + '      ');
  for (const c of embed.TWO) blocks.push(String.fromCharCode(c) + '     ');
  // Three-byte symbols first in a block rank last: the top ones are past 2^47 - 1.
  for (let i = 0; i < embed.THREE_COUNT; i++) blocks.push(' ' + String.fromCharCode(embed.THREE_FIRST + i) + '   ');
  while (blocks.length % 8) blocks.push('       ');
  const text = blocks.join('');
  const want = embed.decode(text, Infinity);
  assert.strictEqual(want.length, (blocks.length / 8) * 47);
  assert.deepStrictEqual(Buffer.from(unpack(text, want.length)), want);
});

test('decode refuses text that is not the encoding', () => {
  assert.throws(() => embed.decode('"abcdef', 3), /not a symbol/);
  assert.throws(() => embed.decode('abcdefg', 3), /not a multiple of eight/);
  // A three-byte symbol where only two bytes of the block are left.
  assert.throws(() => embed.decode('abcde' + String.fromCharCode(embed.THREE_FIRST) + 'fg', 3), /crosses/);
  // The largest 7-byte block is past 2^47 - 1.
  const last = String.fromCharCode(embed.THREE_FIRST + embed.THREE_COUNT - 1);
  assert.throws(() => embed.decode((last + last + '~').repeat(8), 47), /out of range/);
});
