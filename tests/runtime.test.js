'use strict';
// pkg-scripts/test.sh runs this suite on the machine's Node, on Node 22 (Auth0's default
// Actions runtime) and on Node 18 (older tenants), naming the one it meant in
// EXPECT_NODE_VERSION: a run that quietly fell back to another Node fails here.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');

const expected = process.env.EXPECT_NODE_VERSION;

test('the suite runs on the Node it was started for, and so does a plain `node` it starts', { skip: !expected && 'EXPECT_NODE_VERSION is not set (pkg-scripts/test.sh sets it)' }, () => {
  console.log(`# node ${process.version}`);
  assert.equal(process.version, expected);
  const child = spawnSync('node', ['-p', 'process.version'], { encoding: 'utf8' });
  assert.equal(child.stdout.trim(), expected);
});
