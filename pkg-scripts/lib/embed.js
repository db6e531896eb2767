'use strict';
// The text encoding of the wasm embedded in dist/action.js: denser than Z85 (1.20 bytes of
// UTF-8 per byte of data; Z85 1.25, base64 1.33) and still plain string-literal data, decoded
// without eval and with small-integer arithmetic only (fast in V8's interpreter).
//
// Every 20 bits of data become one block of exactly 3 bytes of UTF-8: a sequence of one-byte
// characters (printable ASCII without `"` and `\`: 93 symbols) and two-byte ones (1,351
// letters and signs between U+00AE and U+07EA that are not combining, not invisible and left
// unchanged by Unicode normalisation (NFC), so no tool that normalises text can change one).
// There are N(3) = 93 × N(2) + 1,351 × N(1) = 1,055,643 ≥ 2^20 such blocks; a block's rank among
// them, one-byte symbols first, is the 20-bit number. Two blocks hold 5 bytes.
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
const BLOCK = 3; // UTF-8 bytes per block
const BITS = 20; // data bits per block

/** N[k]: the number of symbol sequences of exactly k UTF-8 bytes. */
const N = [1, ONE.length];
for (let k = 2; k <= BLOCK; k++) N[k] = ONE.length * N[k - 1] + TWO.length * N[k - 2];
if (N[BLOCK] < 2 ** BITS) throw new Error('embed: too few symbols for 20-bit blocks');

/** The 20-bit numbers of `buf`, zero-padded to a multiple of 5 bytes (two numbers each). */
function numbers(buf) {
  const out = [];
  for (let i = 0; i < buf.length; i += 5) {
    const b = (k) => buf[i + k] || 0;
    out.push((b(0) << 12) | (b(1) << 4) | (b(2) >> 4), ((b(2) & 15) << 16) | (b(3) << 8) | b(4));
  }
  return out;
}

/** Encodes `buf` (zero-padded to a multiple of 5 bytes; the decoder is told the real length). */
function encode(buf) {
  const out = [];
  for (let r of numbers(buf)) {
    for (let left = BLOCK; left > 0;) {
      const ones = ONE.length * N[left - 1];
      if (r < ones) {
        const d = Math.floor(r / N[left - 1]);
        out.push(ONE[d]);
        r -= d * N[left - 1];
        left -= 1;
      } else {
        r -= ones;
        const d = Math.floor(r / N[left - 2]);
        out.push(TWO[d]);
        r -= d * N[left - 2];
        left -= 2;
      }
    }
  }
  return out.map((c) => String.fromCharCode(c)).join('');
}

/** The inverse of `encode`: the first `length` bytes that `text` holds. */
function decode(text, length) {
  const digit = new Map([...ONE.map((c, i) => [c, i]), ...TWO.map((c, i) => [c, i])]);
  const rs = [];
  for (let i = 0; i < text.length;) {
    let r = 0;
    for (let left = BLOCK; left > 0; i++) {
      const c = text.charCodeAt(i);
      if (!digit.has(c)) throw new Error(`embed: not a symbol at ${i}`);
      if (c < 0x80) {
        left -= 1;
        r += digit.get(c) * N[left];
      } else {
        r += ONE.length * N[left - 1] + digit.get(c) * N[left - 2];
        left -= 2;
      }
    }
    if (r >= 2 ** BITS) throw new Error(`embed: block ending at ${i} is out of range`);
    rs.push(r);
  }
  if (rs.length % 2) throw new Error('embed: an odd number of blocks');
  const out = Buffer.alloc((rs.length / 2) * 5);
  for (let k = 0, j = 0; k < rs.length; k += 2, j += 5) {
    const [hi, lo] = [rs[k], rs[k + 1]];
    out.set([hi >> 12, (hi >> 4) & 255, ((hi & 15) << 4) | (lo >> 16), (lo >> 8) & 255, lo & 255], j);
  }
  return out.subarray(0, length);
}

module.exports = { encode, decode, ONE, TWO, TWO_RANGES, N };
