import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';
import { testRecordKeys } from './test-support/record-keys';
import { RECORD_LUA } from './record-lua';
import { describeRecordPrelude } from './test-support/record-suite';

// ioredis-mock instances on one host:port share data: one port per test.
let nextPort = 46_000;
const open: Redis[] = [];

function mock(port: number): Redis {
  const redis = new RedisMock({ port });
  open.push(redis);
  return redis;
}

afterEach(() => {
  for (const redis of open.splice(0)) redis.disconnect();
});

describe('RECORD_LUA', () => {
  it('is the text of lua/record.lua and defines the functions queue scripts call', () => {
    for (const fn of ['taskq_jstr', 'taskq_now', 'taskq_record', 'taskq_reply']) {
      expect(RECORD_LUA).toMatch(new RegExp(`local function ${fn}\\(`));
    }
  });
});

// ioredis-mock's TIME rounds the seconds and takes the microseconds from
// process.hrtime(), so its clock is only right to within about 1.5 s.
describeRecordPrelude(
  'ioredis-mock',
  async () => {
    const port = nextPort++;
    return { redis: mock(port), subscriber: mock(port), keys: testRecordKeys(`mock-${port}`) };
  },
  1500,
);
