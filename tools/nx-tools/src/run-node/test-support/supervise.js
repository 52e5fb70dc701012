'use strict';
// `node supervise.js <script> <args…>`: runApp as run-node runs it inside Nx,
// in a process of its own that the tests can signal.
const { runApp } = require('../run-app');

runApp({ script: process.argv[2] ?? '', args: process.argv.slice(3), cwd: process.cwd() }).then((code) => {
  console.log(`supervisor: app exited ${code}`);
  process.exitCode = code;
});
