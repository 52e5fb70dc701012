import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { Redis } from 'ioredis';
import { StatusRecorder } from './recorder';
import { testRecordKeys } from './test-support/record-keys';
import { record } from './test-support/record-script';

describe('StatusRecorder on a real redis-server at maxmemory', () => {
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('reads records, bodies of queued tasks and unknowns while Redis refuses writes (OOM)', async () => {
    const keys = testRecordKeys('oom-read');
    await record(redis, keys, { id: 'moved', status: 'InProgress', attempt: 1, worker: 'w1' });
    await redis.hset(keys.tasks, 'moved', '{"id":"moved","type":"t"}', 'queued', '[1733000000000,"t"]');
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    await redis.config('SET', 'maxmemory', '1');
    try {
      await expect(redis.set('probe', 'x')).rejects.toThrow(/^OOM/);
      const records = await new StatusRecorder(redis, keys).getMany(['moved', 'queued', 'unknown']);
      expect(records.get('moved')).toMatchObject({ status: 'InProgress', attempt: 1, worker: 'w1' });
      expect(records.get('queued')).toMatchObject({ id: 'queued', status: 'Queued', attempt: 0, at: 1733000000000 });
      expect(records.has('unknown')).toBe(true);
      expect(records.get('unknown')).toBeUndefined();
    } finally {
      await redis.config('SET', 'maxmemory', '0');
    }
  });
});
