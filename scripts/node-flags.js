'use strict';
// The node flags of the `liftbridge` executable, read from its shebang line
// (`#!/usr/bin/env -S node <flags>`), for code that starts it as `node <flags> bin/liftbridge.js`
// (the bench, the process-level tests) so that they run the server the way `npx liftbridge` does.
const fs = require('node:fs');
const path = require('node:path');

function liftbridgeNodeFlags() {
  const firstLine = fs.readFileSync(path.join(__dirname, '..', 'bin', 'liftbridge.js'), 'utf8').split('\n', 1)[0];
  const match = /^#!\/usr\/bin\/env -S node((?: +\S+)*)\s*$/.exec(firstLine);
  if (!match) throw new Error(`bin/liftbridge.js: unexpected shebang ${JSON.stringify(firstLine)}`);
  return match[1].trim() === '' ? [] : match[1].trim().split(/ +/);
}

module.exports = { liftbridgeNodeFlags };
