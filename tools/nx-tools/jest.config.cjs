// Unit tests of the run-node executor's parts: the argument splitter, and the
// supervisor (run-app.js) driven as a child process with a probe app.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'nx-tools',
  // each wait of the supervisor tests has its own bound (5 s) and message
  testTimeout: 10_000,
};
