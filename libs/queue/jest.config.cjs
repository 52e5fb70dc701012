// The queue's unit suites run twice: on ioredis-mock (Lua 5.3 under fengari,
// no server needed) and on a real redis-server (Lua 5.1, as in production),
// one private server per test file.
const preset = require('../../jest.preset.cjs');

module.exports = {
  projects: [
    // counts.test.ts: ioredis-mock's pipeline has no eval; it runs on redis-server only
    { ...preset, displayName: 'queue', testPathIgnorePatterns: ['/node_modules/', '/src/counts\\.test\\.ts$'] },
    {
      ...preset,
      displayName: 'queue (redis-server)',
      setupFilesAfterEnv: ['<rootDir>/src/test-support/real-redis-setup.ts'],
      // the suites that use mockRedis(); the others test no Redis behaviour
      testMatch: ['<rootDir>/src/{queue,failure,janitor,limits,progress,counts,throughput,result}.test.ts'],
    },
  ],
};
