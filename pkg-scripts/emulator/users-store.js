'use strict';
// The emulator's users: a Map-like store (get/has/set/delete/size, so server.js, runner.js and
// the tests keep using `emu.users.get(id)` and mutating what it returns) that can also hold a
// million generated users in a few megabytes.
//
// Every user has a stable POSITION that fixes the iteration order (GET /users, checkpoint
// paging, exports): generated users 0..count-1 (their index), then users added one by one
// (fixture users, addUser) in insertion order. A generated user costs nothing until it is
// written to: `get(id)` materializes it into `written` (so a caller's mutation sticks), while
// the bulk paths read through `peek`/`at`, which build a fresh copy and store nothing.
// Role membership of untouched generated users lives in one bitset per role; a materialized
// user's truth is its own `roles` array (mutated directly by server.js and the tests), so a
// `materialized` bitset says which source to believe. Deleted positions stay as tombstones so
// the positions of the others never move.

/** A growable set of small non-negative integers, 32 to a word. */
class Bitset {
  constructor(size = 0) {
    this.words = new Uint32Array(Math.max(1, Math.ceil(size / 32)));
  }
  grow(i) {
    if ((i >>> 5) < this.words.length) return;
    const next = new Uint32Array(Math.max((i >>> 5) + 1, this.words.length * 2));
    next.set(this.words);
    this.words = next;
  }
  has(i) {
    const w = i >>> 5;
    return w < this.words.length && (this.words[w] & (1 << (i & 31))) !== 0;
  }
  add(i) {
    this.grow(i);
    this.words[i >>> 5] |= 1 << (i & 31);
  }
  remove(i) {
    const w = i >>> 5;
    if (w < this.words.length) this.words[w] &= ~(1 << (i & 31));
  }
  word(w) {
    return w < this.words.length ? this.words[w] : 0;
  }
}

const EMPTY = new Bitset(0);

class UsersStore {
  /**
   * @param {object} [generator] users made on demand from their index: {count, idOf(i),
   *   indexOf(id) → i or -1, make(i) → a fresh user object, materialize?(i) → the object to
   *   keep once written to (default make), roleIdsOf(i) → role ids}
   */
  constructor(generator = null) {
    this.gen = generator;
    this.count = generator ? generator.count : 0;
    this.written = new Map(); // id → the user object callers see and mutate
    this.extra = []; // ids of added users; their position is count + k
    this.extraPos = new Map();
    this.deleted = new Bitset(0);
    this.deletedCount = 0;
    this.materialized = new Bitset(this.count);
    this.base = new Map(); // role id → Bitset of generated holders (as generated)
    for (let i = 0; i < this.count; i++) {
      for (const r of generator.roleIdsOf(i)) {
        if (!this.base.has(r)) this.base.set(r, new Bitset(this.count));
        this.base.get(r).add(i);
      }
    }
  }

  /** One past the highest position in use (tombstones included). */
  get end() {
    return this.count + this.extra.length;
  }

  /** The last word index of the position bitsets, -1 when there is no position. */
  get lastWord() {
    return this.end > 0 ? (this.end - 1) >>> 5 : -1;
  }

  /** Live users. */
  get size() {
    return this.end - this.deletedCount;
  }

  /** The position of a live user, or -1. */
  positionOf(id) {
    if (typeof id !== 'string') return -1;
    let p = this.extraPos.get(id);
    if (p === undefined) p = this.gen ? this.gen.indexOf(id) : -1;
    return p >= 0 && !this.deleted.has(p) ? p : -1;
  }

  idAt(pos) {
    return pos < this.count ? this.gen.idOf(pos) : this.extra[pos - this.count];
  }

  has(id) {
    return this.positionOf(id) >= 0;
  }

  /** The live user object (a generated one is materialized first, so changes persist). */
  get(id) {
    const pos = this.positionOf(id);
    if (pos < 0) return undefined;
    let u = this.written.get(id);
    if (!u) {
      u = this.gen.materialize ? this.gen.materialize(pos) : this.gen.make(pos);
      this.written.set(id, u);
      this.materialized.add(pos);
    }
    return u;
  }

  /** The user for reading only: a generated, unwritten one is built fresh and not kept. */
  peek(id) {
    const pos = this.positionOf(id);
    return pos < 0 ? undefined : this.at(pos);
  }

  /** The user at a live position, for reading only (see peek): a generated user written to
   * keeps only its own (changed) fields, so it is read as generated + those. */
  at(pos) {
    if (!this.materialized.has(pos)) return this.gen.make(pos);
    const u = this.written.get(this.idAt(pos));
    return pos < this.count ? Object.assign(this.gen.make(pos), u) : u;
  }

  /** Adds or replaces a user (a generated id keeps its position). */
  set(id, user) {
    let pos = this.extraPos.get(id);
    if (pos === undefined && this.gen) pos = this.gen.indexOf(id);
    if (pos === undefined || pos < 0) {
      pos = this.end;
      this.extra.push(id);
      this.extraPos.set(id, pos);
    } else if (this.deleted.has(pos)) {
      this.deleted.remove(pos);
      this.deletedCount -= 1;
    }
    this.written.set(id, user);
    this.materialized.add(pos);
    return this;
  }

  /** Deletes a user: unknown everywhere afterwards; its position stays a tombstone. */
  delete(id) {
    const pos = this.positionOf(id);
    if (pos < 0) return false;
    this.deleted.add(pos);
    this.deletedCount += 1;
    this.written.delete(id);
    this.materialized.remove(pos);
    if (pos >= this.count) this.extraPos.delete(id);
    return true;
  }

  /** Live user ids in position order. */
  *keys() {
    for (const [pos] of this.scan()) yield this.idAt(pos);
  }

  /** Live users in position order, materialized (Map semantics: callers may mutate them;
   * so this holds every generated user afterwards: bulk code uses scan() instead). */
  *values() {
    for (const id of this.keys()) yield this.get(id);
  }

  *entries() {
    for (const id of this.keys()) yield [id, this.get(id)];
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  /** Live positions from `from` on (no user is made). */
  *positions(from = 0) {
    for (let pos = Math.max(0, from); pos < this.end; pos++) {
      if (!this.deleted.has(pos)) yield pos;
    }
  }

  /** [position, user] of live users from position `from` on, read-only (see peek). */
  *scan(from = 0) {
    for (const pos of this.positions(from)) yield [pos, this.at(pos)];
  }

  /** Whether the user at a live position holds the role. */
  holds(pos, roleId) {
    if (this.materialized.has(pos)) return (this.written.get(this.idAt(pos)).roles || []).includes(roleId);
    return (this.base.get(roleId) || EMPTY).has(pos);
  }

  /** Up to `limit` [position, user] of the role's live holders at positions >= from (see rolePositions). */
  roleMembers(roleId, from = 0, limit = Infinity) {
    return this.rolePositions(roleId, from, limit).map((pos) => [pos, this.at(pos)]);
  }

  /**
   * Up to `limit` positions of the role's live holders at positions >= from, in order; whole
   * 32-position words without a candidate are skipped, and no user is made.
   */
  rolePositions(roleId, from = 0, limit = Infinity) {
    const out = [];
    const base = this.base.get(roleId) || EMPTY;
    for (let w = Math.max(0, from) >>> 5; w <= this.lastWord && out.length < limit; w++) {
      const mat = this.materialized.word(w);
      let cand = ((base.word(w) & ~mat) | mat) & ~this.deleted.word(w);
      while (cand !== 0 && out.length < limit) {
        const bit = 31 - Math.clz32(cand & -cand);
        cand &= cand - 1;
        const pos = w * 32 + bit;
        if (pos < from || pos >= this.end) continue;
        if (this.holds(pos, roleId)) out.push(pos);
      }
    }
    return out;
  }

  /** How many live users hold the role. */
  roleCount(roleId) {
    const base = this.base.get(roleId) || EMPTY;
    let n = 0;
    for (let w = 0; w <= this.lastWord; w++) {
      n += popcount(base.word(w) & ~this.materialized.word(w) & ~this.deleted.word(w));
    }
    for (const [id, u] of this.written) if ((u.roles || []).includes(roleId) && this.positionOf(id) >= 0) n++;
    return n;
  }
}

function popcount(x) {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

module.exports = { UsersStore, Bitset };
