#!/usr/bin/env node
'use strict';
// Thin launcher: the compiled CLI lives in dist/ (npm run build).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('ngate: not built yet; run `npm run build` (npm start does it for you)\n');
  process.exit(2);
}
// `start` catches its signals before the CLI loads: a SIGHUP or SIGTERM right after start must not kill it.
if (process.argv[2] === 'start') require(path.join(__dirname, '..', 'dist', 'src', 'supervisor', 'early-signals.js')).installEarlySignals();
require(entry);
