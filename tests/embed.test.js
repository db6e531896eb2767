'use strict';
// The text encoding of the embedded wasm (pkg-scripts/lib/embed.js) and the shim's decoder of
// it (js-shim/action.template.js unpack() over js-shim/unpack.wat), on data that reaches every
// symbol and both ends of the 20-bit range.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const embed = require('../pkg-scripts/lib/embed.js');
const { ROOT } = require('./helpers.js');

const LENGTHS = [0, 1, 2, 4, 5, 6, 9, 10, 11, 4096, 65339];
const samples = () => [
  ...LENGTHS.map((n) => crypto.randomBytes(n)),
  Buffer.alloc(10, 0x00),
  Buffer.alloc(10, 0xff),
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
    .replace('/*@EMBED_RANGES@*/[]', JSON.stringify(embed.TWO_RANGES.flat()))
    .replace("/*@UNPACK_WASM@*/''", JSON.stringify(fs.readFileSync(wasm).toString('base64')));
  const file = path.join(dir, 'unpack.js');
  fs.writeFileSync(file, `'use strict';\n${source}\nmodule.exports = unpack;\n`);
  try {
    return require(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('encode/decode round-trip at 1.20 bytes of UTF-8 per byte', () => {
  for (const buf of samples()) {
    const text = embed.encode(buf);
    assert.deepStrictEqual(embed.decode(text, buf.length), buf, `length ${buf.length}`);
    assert.strictEqual(Buffer.byteLength(text), (Math.ceil(buf.length / 5) * 5 * 6) / 5);
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
  assert.strictEqual(embed.TWO.length, 1351);
  assert.ok(embed.N[3] >= 2 ** 20);
});

test("the shim's unpack() decodes what build.js encodes", () => {
  const unpack = shimUnpack();
  for (const buf of samples()) {
    const got = unpack(embed.encode(buf), buf.length);
    assert.deepStrictEqual(Buffer.from(got), buf, `length ${buf.length}`);
  }
});

test('decode refuses text that is not the encoding', () => {
  assert.throws(() => embed.decode('"abc', 3), /not a symbol/);
  assert.throws(() => embed.decode('abc', 3), /odd number of blocks/);
  // The largest 3-byte block is past 2^20 - 1.
  const top = String.fromCharCode(embed.TWO[embed.TWO.length - 1]) + '~';
  assert.throws(() => embed.decode(top + top, 5), /out of range/);
});
