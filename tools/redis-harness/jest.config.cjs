// The harness tests its own jest globalSetup/globalTeardown the way a
// consuming project uses them: through this project's ts-jest transform.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'redis-harness',
  globalSetup: '<rootDir>/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/src/jest-global-teardown.ts',
  // Each test starts and stops real redis-server processes.
  testTimeout: 30_000,
};
