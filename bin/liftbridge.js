#!/usr/bin/env node
'use strict';
// The liftbridge executable runs the compiled server (npm start / npm test build it first).
require('../dist/src/infrastructure/main.js').main(process.argv).catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
