'use strict';
// The app's sentinel, started by sentinel-preload.js as the app's child. It
// lives as long as the app (its stdin is a pipe from the app, which ends when
// the app exits, however it exits), so the app is never a leaf of the task's
// process tree. Every SIGINT, SIGTERM or SIGHUP it gets (Nx's tree kill) is
// one byte on fd 3, the relay pipe to run-app.js.
const { writeSync } = require('node:fs');

const RELAY_FD = 3;

function relay() {
  try {
    writeSync(RELAY_FD, 's');
  } catch {
    // run-app.js is gone: nothing to tell
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, relay);
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
