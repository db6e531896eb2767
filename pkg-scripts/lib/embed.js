'use strict';
// The text encoding of the wasm embedded in dist/action.js: denser than Z85 (1.19 bytes of
// UTF-8 per byte of data; Z85 1.25, base64 1.33) and still plain string-literal data, decoded
// without eval by a tiny wasm module (js-shim/unpack.wat).
//
// Every 47 bits of data become one block of exactly 7 bytes of UTF-8: a sequence of one-byte
// characters (printable ASCII without `"` and `\`: 93 symbols), two-byte ones (1,351 letters
// and signs between U+00AE and U+07EA that are not combining, not invisible and left unchanged
// by Unicode normalisation, so no tool that normalises text can change one) and three-byte
// ones (16,384 CJK unified ideographs from U+4E00: letters, no decomposition). There are
// N(7) ≥ 2^47 such blocks (N(k) = 93 N(k-1) + 1,351 N(k-2) + 16,384 N(k-3)); a block's rank
// among them, shorter first symbols first, is the 47-bit number. Eight blocks hold 47 bytes.
// (Three-byte blocks of two-byte letters carried 20 bits: 6.67 bits per byte; these 6.71.)
// js-shim/action.template.js decodes the same way; tests/embed.test.js checks that they agree.

/** One-byte symbols: ' ' … '~' without '"' and '\'. */
const ONE = [];
for (let c = 0x20; c < 0x7f; c++) if (c !== 0x22 && c !== 0x5c) ONE.push(c);
/** Two-byte symbols, as [first, last] code point ranges (tests/embed.test.js checks them). */
const TWO_RANGES = [
  [0xae, 0x2ff], [0x3a3, 0x482], [0x48a, 0x52f], [0x531, 0x556], [0x559, 0x58a],
  [0x61d, 0x64a], [0x671, 0x6d5], [0x74d, 0x7a5], [0x7c0, 0x7ea],
];
const TWO = TWO_RANGES.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
/** Three-byte symbols: THREE_COUNT code points from THREE_FIRST (the decoder's digit is c - THREE_FIRST). */
const THREE_FIRST = 0x4e00;
const THREE_COUNT = 16384;
const BLOCK = 7; // UTF-8 bytes per block
const BITS = 47; // data bits per block
const GROUP = BITS; // data bytes per 8 blocks (8 × 47 bits)
const B = BigInt(BITS);

const COUNTS = [0n, BigInt(ONE.length), BigInt(TWO.length), BigInt(THREE_COUNT)];
/** N[k]: the number of symbol sequences of exactly k UTF-8 bytes (BigInt). */
const N = [1n];
for (let k = 1; k <= BLOCK; k++) {
  N[k] = 0n;
  for (let len = 1; len <= 3 && len <= k; len++) N[k] += COUNTS[len] * N[k - len];
}
if (N[BLOCK] < 1n << B) throw new Error('embed: too few symbols for 47-bit blocks');

/** Symbol `digit` of length `len` bytes as a code point. */
const symbol = (len, digit) => (len === 1 ? ONE[digit] : len === 2 ? TWO[digit] : THREE_FIRST + digit);

/** The 47-bit numbers of `buf`, zero-padded to a multiple of 47 bytes (eight numbers each). */
function numbers(buf) {
  const out = [];
  const padded = Buffer.alloc(Math.ceil(buf.length / GROUP) * GROUP);
  buf.copy(padded);
  for (let i = 0; i < padded.length; i += GROUP) {
    let group = BigInt('0x' + (padded.subarray(i, i + GROUP).toString('hex') || '0'));
    const rs = [];
    for (let k = 0; k < 8; k++) {
      rs.unshift(group & ((1n << B) - 1n));
      group >>= B;
    }
    out.push(...rs);
  }
  return out;
}

/** Encodes `buf` (zero-padded to a multiple of 47 bytes; the decoder is told the real length). */
function encode(buf) {
  const out = [];
  for (let r of numbers(buf)) {
    for (let left = BLOCK; left > 0;) {
      // Sequences starting with a one-byte symbol rank first, then two-byte, then three-byte.
      for (let len = 1; len <= 3; len++) {
        const span = COUNTS[len] * N[left - len];
        if (len === 3 || r < span) {
          const d = r / N[left - len];
          out.push(symbol(len, Number(d)));
          r -= d * N[left - len];
          left -= len;
          break;
        }
        r -= span;
      }
    }
  }
  return out.map((c) => String.fromCharCode(c)).join('');
}

/** The inverse of `encode`: the first `length` bytes that `text` holds. */
function decode(text, length) {
  const digit = new Map([...ONE.map((c, i) => [c, [1, i]]), ...TWO.map((c, i) => [c, [2, i]])]);
  for (let i = 0; i < THREE_COUNT; i++) digit.set(THREE_FIRST + i, [3, i]);
  const rs = [];
  for (let i = 0; i < text.length;) {
    let r = 0n;
    for (let left = BLOCK; left > 0; i++) {
      const c = text.charCodeAt(i);
      if (!digit.has(c)) throw new Error(`embed: not a symbol at ${i}`);
      const [len, d] = digit.get(c);
      if (len > left) throw new Error(`embed: a symbol crosses the block ending at ${i}`);
      for (let shorter = 1; shorter < len; shorter++) r += COUNTS[shorter] * N[left - shorter];
      left -= len;
      r += BigInt(d) * N[left];
    }
    if (r >= 1n << B) throw new Error(`embed: block ending at ${i} is out of range`);
    rs.push(r);
  }
  if (rs.length % 8) throw new Error('embed: the blocks are not a multiple of eight');
  const out = Buffer.alloc((rs.length / 8) * GROUP);
  for (let k = 0; k < rs.length; k += 8) {
    let group = 0n;
    for (let j = 0; j < 8; j++) group = (group << B) | rs[k + j];
    Buffer.from(group.toString(16).padStart(GROUP * 2, '0'), 'hex').copy(out, (k / 8) * GROUP);
  }
  return out.subarray(0, length);
}

module.exports = { encode, decode, ONE, TWO, TWO_RANGES, THREE_FIRST, THREE_COUNT, N };
