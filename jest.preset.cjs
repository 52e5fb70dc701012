// Shared jest settings for every project. `@taskq/source` makes sibling
// libraries resolve to their TypeScript sources, so tests never run against a
// stale dist/. No `reflect-metadata` setup file: the libraries must load and
// work without it (they use no decorators), and the tests show that they do.
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testEnvironmentOptions: {
    customExportConditions: ['@taskq/source', 'node', 'require', 'default'],
  },
  testMatch: ['<rootDir>/src/**/*.test.ts'],
};
