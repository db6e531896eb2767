'use strict';
// The deploy tool retries by the Action's rules: its backoffMs gives the wait the Rust core
// gives for every case of the shared vectors (tests/vectors/retry.json, also read by
// tests/retry_vectors.rs).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { backoffMs } = require('../pkg-scripts/deploy/client.js');
const VECTORS = require('./vectors/retry.json');

test('deploy/client.js backoffMs matches the shared retry vectors', () => {
  assert.ok(VECTORS.cases.length >= 20);
  const wrong = [];
  for (const c of VECTORS.cases) {
    const got = backoffMs(c.attempt, c.retry_after, c.ratelimit_reset, VECTORS.now, c.jitter === null ? NaN : c.jitter);
    if (got !== c.wait) wrong.push(`${JSON.stringify(c)} → ${got}`);
  }
  assert.deepEqual(wrong, []);
});
