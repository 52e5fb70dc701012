'use strict';
// Loaded into the app by run-app.js (`node --require …/sentinel-preload.js
// <script>`), before the app's own code. It starts the app's sentinel: a
// child process that keeps the app from being a leaf of the task's process
// tree, so that Nx's tree kill, which signals leaves first (and sometimes
// twice), signals the sentinel and not the app; the sentinel reports each
// signal over the relay pipe, and run-app.js decides what the app gets.
const { spawn } = require('node:child_process');
const { closeSync } = require('node:fs');
const { join } = require('node:path');
const { isMainThread } = require('node:worker_threads');
const { RELAY_FD_ENV } = require('./relay');

function startSentinel() {
  const fd = Number(process.env[RELAY_FD_ENV]);
  // Worker threads load --require modules too; and the app's own children are not ours.
  delete process.env[RELAY_FD_ENV];
  if (!isMainThread || !Number.isInteger(fd) || fd < 3) return;
  try {
    const sentinel = spawn(process.execPath, [join(__dirname, 'sentinel.js')], {
      stdio: ['pipe', 'ignore', 'inherit', fd],
    });
    sentinel.on('error', () => {}); // without a sentinel, Nx signals the app directly: still a stop
    // Neither may keep the app running.
    sentinel.unref();
    /** @type {import('node:net').Socket} */ (sentinel.stdin).unref();
  } finally {
    closeSync(fd); // the sentinel holds the pipe now; the app must not
  }
}

if (process.env[RELAY_FD_ENV] !== undefined) startSentinel();
