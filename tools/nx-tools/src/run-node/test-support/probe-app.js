'use strict';
// An app for run-app.test.ts: says where it runs, records every stop signal,
// and exits PROBE_STOP_MS after the first one (its "graceful stop"), printing
// them all. PROBE_EXIT: its exit code; PROBE_EXIT_AT_ONCE=1: exits at start.
const { Worker } = require('node:worker_threads');

const exitCode = Number(process.env.PROBE_EXIT ?? 0);
const ready = () => console.log(`ready pid=${process.pid} args=${JSON.stringify(process.argv.slice(2))} cwd=${process.cwd()}`);
if (process.env.PROBE_EXIT_AT_ONCE === '1') {
  ready();
  process.exit(exitCode);
}

// Like the worker's heartbeat thread: a worker thread loads the --require modules too.
new Worker('setInterval(() => {}, 1000)', { eval: true }).unref();

/** @type {string[]} */
const received = [];
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    received.push(signal);
    console.log(`got ${signal}`);
    if (received.length > 1) return;
    setTimeout(() => {
      console.log(`stopped after ${received.join(',')}`);
      process.exit(exitCode);
    }, Number(process.env.PROBE_STOP_MS ?? 300));
  });
}
setInterval(() => {}, 1000);
ready();
