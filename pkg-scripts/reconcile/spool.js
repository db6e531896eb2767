'use strict';
// The plan --apply carries out, kept on disk between reading and writing: --max-changes is
// checked on the whole plan before the first write, and the four phases each walk every
// user, so the plan must outlive one pass — and a million users' plans do not belong in
// memory. One compact JSON line per user with writes (changes.js spoolRecord), in a private
// temporary directory (mode 0700/0600: it holds user ids and metadata) removed when the run
// ends; a SIGKILLed run leaves it in the system's temporary directory (auth0-reconcile-*).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { splitLines } = require('./read-source.js');

class Spool {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth0-reconcile-'));
    this.file = path.join(this.dir, 'plan.jsonl');
    this.out = fs.createWriteStream(this.file, { mode: 0o600 });
    this.count = 0;
  }

  /** Appends one record (waits while the disk catches up). */
  async add(rec) {
    this.count++;
    if (!this.out.write(JSON.stringify(rec) + '\n')) await once(this.out, 'drain');
  }

  async close() {
    if (!this.out.closed && !this.out.writableFinished) {
      this.out.end();
      await once(this.out, 'finish');
    }
  }

  /** The records in the order they were added. */
  async *records() {
    for await (const line of splitLines(fs.createReadStream(this.file))) yield JSON.parse(line);
  }

  remove() {
    try {
      this.out.destroy();
    } catch (_) { /* already closed */ }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { Spool };
