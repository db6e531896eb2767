'use strict';
// Function order for brotli: brotli finds repeats within its window, so functions whose bytes
// look alike compress better next to each other (measured on the Action's wasm: binaryen's
// order 58,062 B brotli, by name 57,777 B, this chain 56,889 B). build.js renames the functions
// to their rank here and lets wasm-opt's --reorder-functions-by-name lay them out.
//
// Likeness: a MinHash estimate of the share of 4-byte sequences two bodies have in common.
// Order: a greedy chain from the largest function, each step to the most alike function left
// (ties: the lowest index), so the same wasm always gets the same order.

const HASHES = 256;
const GRAM = 4;

function reader(bytes) {
  let at = 0;
  const r = {
    get at() { return at; },
    set at(v) { at = v; },
    byte: () => bytes[at++],
    /** Skips a length-prefixed name. */
    skip() { const n = r.leb(); at += n; },
    leb() {
      let v = 0;
      let shift = 0;
      let b;
      do {
        b = bytes[at++];
        v += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
      return v;
    },
  };
  return r;
}

function leb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}

const name = (s) => Buffer.concat([leb(Buffer.byteLength(s)), Buffer.from(s)]);

/** The wasm's sections, its function imports count and its function bodies. */
function parse(wasm) {
  const r = reader(wasm);
  r.at = 8;
  const sections = [];
  const bodies = [];
  let imported = 0;
  while (r.at < wasm.length) {
    const start = r.at;
    const id = r.byte();
    const end = r.leb() + r.at;
    if (id === 2) {
      for (let n = r.leb(); n > 0; n--) {
        r.skip(); // module
        r.skip(); // field
        const kind = r.byte();
        // Limits are flags, minimum and (flag 1) maximum.
        const limits = () => { if (r.leb() & 1) r.leb(); r.leb(); };
        switch (kind) {
          case 0: r.leb(); imported++; break; // function: type index
          case 1: r.byte(); limits(); break; // table: element type, limits
          case 2: limits(); break; // memory
          case 3: r.at += 2; break; // global: type, mutability
          default: throw new Error(`wasm-order: import kind ${kind} not understood`);
        }
      }
    } else if (id === 10) {
      for (let n = r.leb(); n > 0; n--) {
        const len = r.leb();
        bodies.push(wasm.subarray(r.at, r.at + len));
        r.at += len;
      }
    }
    sections.push({ id, bytes: wasm.subarray(start, end) });
    r.at = end;
  }
  return { sections, bodies, imported };
}

function signatures(bodies) {
  const seeds = Array.from({ length: HASHES }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 0) | 1);
  return bodies.map((body) => {
    const min = new Uint32Array(HASHES).fill(0xffffffff);
    for (let j = 0; j + GRAM <= body.length; j++) {
      let g = 0;
      for (let k = 0; k < GRAM; k++) g = (Math.imul(g, 31) + body[j + k]) >>> 0;
      for (let k = 0; k < HASHES; k++) {
        const h = Math.imul(g ^ seeds[k], 0x9e3779b1) >>> 0;
        if (h < min[k]) min[k] = h;
      }
    }
    return min;
  });
}

/** Defined functions' indices (0 = first body) in brotli-friendly order. */
function chainOrder(bodies) {
  const sig = signatures(bodies);
  const alike = (a, b) => {
    let s = 0;
    for (let k = 0; k < HASHES; k++) if (sig[a][k] === sig[b][k]) s++;
    return s;
  };
  const left = new Set(bodies.keys());
  let cur = 0;
  for (const i of left) if (bodies[i].length > bodies[cur].length) cur = i;
  const order = [];
  while (left.size) {
    left.delete(cur);
    order.push(cur);
    let best = -1;
    let bestScore = -1;
    for (const c of left) {
      const s = alike(cur, c);
      if (s > bestScore) { bestScore = s; best = c; }
    }
    cur = best;
  }
  return order;
}

/**
 * The wasm with its name section replaced by names that sort in chainOrder (imports first),
 * for `wasm-opt --reorder-functions-by-name`. Any other custom section is kept.
 */
function rankNames(wasm) {
  const { sections, bodies, imported } = parse(wasm);
  const rank = new Array(bodies.length);
  chainOrder(bodies).forEach((f, r) => { rank[f] = r; });
  const width = String(imported + bodies.length).length;
  const entries = [];
  for (let i = 0; i < imported; i++) entries.push(Buffer.concat([leb(i), name('i' + String(i).padStart(width, '0'))]));
  for (let i = 0; i < bodies.length; i++) entries.push(Buffer.concat([leb(imported + i), name('f' + String(rank[i]).padStart(width, '0'))]));
  const functionNames = Buffer.concat([leb(imported + bodies.length), ...entries]);
  const payload = Buffer.concat([name('name'), Buffer.from([1]), leb(functionNames.length), functionNames]);
  const kept = sections.filter((s) => !(s.id === 0 && isNameSection(s.bytes)));
  return Buffer.concat([wasm.subarray(0, 8), ...kept.map((s) => s.bytes), Buffer.from([0]), leb(payload.length), payload]);
}

function isNameSection(section) {
  const r = reader(section);
  r.byte();
  r.leb();
  const len = r.leb();
  return section.subarray(r.at, r.at + len).toString() === 'name';
}

module.exports = { chainOrder, rankNames, parse, reader };
