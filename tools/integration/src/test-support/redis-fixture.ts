import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { connectRedis } from '@taskq/queue';
import { TEST_REDIS_URL_ENV } from '@taskq/redis-harness';

/** URL of the redis-server the jest global setup started for this run. */
export function testRedisUrl(): string {
  const url = process.env[TEST_REDIS_URL_ENV];
  if (!url) {
    throw new Error(`${TEST_REDIS_URL_ENV} is not set: run these tests through tools/integration/jest.config.cjs (its globalSetup starts redis-server)`);
  }
  return url;
}

/** A queue name no other test uses, e.g. `it-kill-3f9a0c1d`. */
export function newQueueName(label: string): string {
  return `it-${label}-${randomBytes(4).toString('hex')}`;
}

/** Redis connections a test opens; `close()` in afterEach quits them all. */
export class RedisClients {
  private readonly open: Redis[] = [];

  /** A ready connection to `url` (default: the run's server). */
  async connect(url: string = testRedisUrl(), name = 'taskq-it'): Promise<Redis> {
    const redis = await connectRedis(url, { connectTimeoutMs: 5000, connectionName: name });
    this.open.push(redis);
    return redis;
  }

  /** Registers a connection made elsewhere, so that close() ends it too. */
  adopt<T extends Redis>(redis: T): T {
    this.open.push(redis);
    return redis;
  }

  async close(): Promise<void> {
    const all = this.open.splice(0);
    await Promise.all(all.map(closeClient));
  }
}

/**
 * Ends a connection, whatever state it is in. ioredis's disconnect() on a
 * socket that is already closed arms a 2 s timer nothing clears, which holds
 * jest open: call it only when the connection is neither ready nor ended.
 */
export async function closeClient(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // quit() by someone else is under way: its 'end' follows
    }
  }
  const status: string = redis.status; // may have changed while quit() was pending
  if (status !== 'end') redis.disconnect();
}
