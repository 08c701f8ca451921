#!/usr/bin/env node
// The `tailor` command: runs the bundled CLI (dist/cli.js), built by `npm run build`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write(`tailor: ${cli} is missing. Build Tailor first: run \`npm run setup\` in ${path.dirname(__dirname)}.\n`);
  process.exit(1);
}
require(cli);
