// Shared jest settings for every project. ts-jest emits decorator metadata
// (tsyringe needs it); `@taskq/source` makes sibling libraries resolve to
// their TypeScript sources, so tests never run against a stale dist/.
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testEnvironmentOptions: {
    customExportConditions: ['@taskq/source', 'node', 'require', 'default'],
  },
  setupFiles: ['reflect-metadata'],
  testMatch: ['<rootDir>/src/**/*.test.ts'],
};
