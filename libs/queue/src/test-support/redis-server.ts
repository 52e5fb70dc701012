import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';

/** What useRedisServer() gives a test file, once its beforeAll has run. */
export interface RealRedis {
  readonly server: RedisServer;
  /** A client of the file's own (commands fail after one retry rather than queue). */
  readonly redis: Redis;
}

/**
 * A redis-server of the test file's own (never the one on 6379), started in
 * beforeAll and stopped in afterAll, with a client: for the queue's
 * *.real-redis.test.ts files that need more than mockRedis() gives.
 */
export function useRedisServer(): RealRedis {
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  }, 20_000);
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useRedisServer(): used before its beforeAll ran');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get redis() {
      return started(redis);
    },
  };
}
