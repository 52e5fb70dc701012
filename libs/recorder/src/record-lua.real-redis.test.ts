import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { testRecordKeys } from './test-support/record-keys';
import { decodeStatusRecord } from './status-record';
import { NASTY_REASON, record, type RecordCall } from './test-support/record-script';
import { describeRecordPrelude } from './test-support/record-suite';

// Real Redis runs the prelude on Lua 5.1; ioredis-mock on fengari (Lua 5.3).
let server: RedisServer;
let nextQueue = 0;
const open: Redis[] = [];

function connect(): Redis {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  open.push(redis);
  return redis;
}

beforeAll(async () => {
  server = await startRedisServer();
}, 20_000);

afterEach(() => {
  for (const redis of open.splice(0)) redis.disconnect();
});

afterAll(async () => {
  await server?.stop();
});

// Redis TIME and Date.now() read the same clock; the record truncates to ms.
describeRecordPrelude(
  'a real redis-server',
  async () => ({ redis: connect(), subscriber: connect(), keys: testRecordKeys(`real-${++nextQueue}`) }),
  1,
);

describe('RECORD_LUA on real Redis and on ioredis-mock', () => {
  it('writes identical records for identical transitions', async () => {
    const real = connect();
    const mock = new RedisMock({ port: 47_000 });
    try {
      const keys = testRecordKeys('agree');
      const calls: RecordCall[] = [
        { id: 'x', status: 'Queued', attempt: 0 },
        { id: 'x', status: 'InProgress', attempt: 1, worker: 'h:1:w"0"' },
        { id: 'x', status: 'Failed', attempt: 1, worker: 'h:1:w"0"', reason: NASTY_REASON },
        { id: 'y\u0001"', status: 'Done', attempt: 12345, reason: 'ok' },
      ];
      for (const call of calls) {
        const fromReal = await record(real, keys, call);
        const fromMock = await record(mock, keys, call);
        // Only the server time may differ.
        const at = decodeStatusRecord(fromReal).at;
        expect(fromMock.replace(/"at":\d+/, `"at":${at}`)).toBe(fromReal);
      }
    } finally {
      mock.disconnect();
    }
  });
});
