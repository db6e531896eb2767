'use strict';
// Progress on stderr (stdout carries the plan): on a terminal one line redrawn in place
// (phase, users, requests, 429s, ETA); otherwise a plain line every `intervalMs` (default
// 10 s; RECONCILE_PROGRESS_MS), so a log shows the run is alive without flooding it.

class Progress {
  /**
   * @param {object} o stream (default process.stderr); tty (default stream.isTTY);
   *   intervalMs; stats() → {requests, limited} (the client's counts); now
   */
  constructor(o = {}) {
    this.stream = o.stream || process.stderr;
    this.tty = o.tty === undefined ? !!this.stream.isTTY : o.tty;
    this.intervalMs = o.intervalMs || (this.tty ? 250 : 10000);
    this.stats = o.stats || (() => ({ requests: 0, limited: 0 }));
    this.now = o.now || Date.now;
    this.state = { phase: 'starting', done: 0, total: null, unit: 'users' };
    this.phaseStart = this.now();
    this.timer = null;
    this.drawn = false;
  }

  start() {
    if (this.timer) return;
    this.timer = setInterval(() => this.draw(), this.intervalMs);
    this.timer.unref();
  }

  /** New state: {phase?, done?, total?, unit?}; a new phase restarts the ETA clock. */
  update(s) {
    if (s.phase && s.phase !== this.state.phase) {
      this.phaseStart = this.now();
      this.state = { done: 0, total: null, unit: this.state.unit, ...s };
    } else {
      Object.assign(this.state, s);
    }
  }

  line() {
    const { phase, done, total, unit } = this.state;
    const { requests, limited } = this.stats();
    let eta = '';
    const elapsed = (this.now() - this.phaseStart) / 1000;
    if (total && done > 0 && done < total && elapsed > 1) {
      const left = ((total - done) * elapsed) / done;
      eta = `, ETA ${left < 90 ? `${Math.ceil(left)} s` : `${Math.ceil(left / 60)} min`}`;
    }
    return `${phase}: ${done}${total ? `/${total}` : ''} ${unit}, ${requests} requests, ${limited} 429s${eta}`;
  }

  draw() {
    const l = this.line();
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${l.slice(0, (this.stream.columns || 120) - 1)}`);
      this.drawn = true;
    } else {
      this.stream.write(`progress: ${l}\n`);
    }
  }

  /** Stops drawing and clears the line (a terminal's) so what follows starts clean. */
  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.tty && this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}

module.exports = { Progress };
