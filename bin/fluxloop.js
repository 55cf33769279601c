#!/usr/bin/env node
'use strict';
// Exits once the command is done: a replayed target may leave timers, sockets or a run that
// timed out behind, and those must not keep the CLI alive. Output is flushed first.
require('../dist/cli/main.js')
  .main(process.argv)
  .then(() => process.stdout.write('', () => process.stderr.write('', () => process.exit())));
