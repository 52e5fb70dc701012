// End-to-end tests: the built apps (apps/*/dist, built first by the `test`
// target's ^build dependency) run as child processes against one throwaway
// redis-server that the harness starts for the whole run.
//
// The harness's global setup/teardown are named by path (loaded through
// ts-jest, from source): as package names ('@taskq/redis-harness/jest-global-setup')
// the @nx/jest plugin lists a workspace project as an external dependency of
// the test target, and nx refuses to run it.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'integration',
  globalSetup: '<rootDir>/../../tools/redis-harness/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/../../tools/redis-harness/src/jest-global-teardown.ts',
  // Each test spawns processes and waits for them; every wait has its own, shorter bound.
  testTimeout: 60_000,
  // Two cores: two test files at a time, each running several Node processes.
  maxWorkers: 2,
};
