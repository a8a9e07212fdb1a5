#!/usr/bin/env -S node --initial-heap-size=128 --disable-warning=DEP0123
'use strict';
// --initial-heap-size: without it V8 starts a full (mark-compact) GC every few hundred ms under
// ingest load, only because the Buffers that pass through count against a small initial heap
// limit; 128 MB removes those GCs at the same peak RSS (docs/benchmarks.md, session 4).
// --disable-warning=DEP0123: grpc-js sends an IP address as the TLS server name when the admin
// commands connect to `127.0.0.1:9292` with TLS; Node warns on stderr, and the certificate is
// still checked against that address (docs/security.md).
// scripts/node-flags.js gives the same node flags to the bench and the tests that start this file.
// The liftbridge executable runs the compiled server. On a fresh clone (nothing compiled yet) it
// first installs and builds what is missing, as `npm start` does.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'src', 'infrastructure', 'main.js');
if (!fs.existsSync(entry)) {
  const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'ensure.js')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0) process.exit(built.status || 1);
}
require(entry)
  .main(process.argv)
  .catch((err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(1);
  });
