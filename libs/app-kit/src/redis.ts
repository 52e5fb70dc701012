import type { Redis } from 'ioredis';
import type { RedisClient } from '@taskq/queue';
import RedisMock from 'ioredis-mock';
import type { Logger } from '@taskq/recorder';
import { connectRedisClient, redactUrl } from '@taskq/queue';

/**
 * The Redis an app talks to: the client its taskq components share (each
 * opens its subscriber connections as duplicates of it, and closes them).
 */
export interface RedisConnection {
  /** A server's client, or a Redis Cluster's (a `redis+cluster://` URL). */
  readonly redis: RedisClient;
  /** `redis://…` with any password redacted, or `embedded in-memory Redis`. */
  readonly address: string;
  readonly embedded: boolean;
  /** Closes the shared client (the components close their own duplicates on stop). */
  close(): Promise<void>;
}

export interface OpenRedisOptions {
  /** Server URL; undefined means the embedded in-memory Redis (one process only). */
  readonly url: string | undefined;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  /** Connection name prefix shown by CLIENT LIST. */
  readonly name: string;
}

/**
 * Connects to the Redis at `url`, or starts an embedded in-memory Redis
 * (ioredis-mock: Lua scripts and pub/sub work, data lives in this process)
 * when no URL is given. Rejects with RedisConnectionError if the server
 * cannot be reached within connectTimeoutMs.
 */
export async function openRedis(options: OpenRedisOptions): Promise<RedisConnection> {
  const opened: RedisClient[] = [];
  if (options.url === undefined) {
    const port = 16379 + Math.floor(Math.random() * 10000);
    const make = (): Redis => {
      const r = new RedisMock({ port });
      opened.push(r);
      return r;
    };
    const redis = make();
    // the components' subscriber connections: more clients of the same in-memory data
    redis.duplicate = make;
    return {
      redis,
      address: 'embedded in-memory Redis',
      embedded: true,
      close: async () => {
        for (const r of opened.splice(0)) r.disconnect();
      },
    };
  }
  const url = options.url;
  // the components' subscriber connections are its duplicates, named `<name>-sub`
  const redis = await connectRedisClient(url, {
    connectTimeoutMs: options.connectTimeoutMs,
    connectionName: options.name,
    logger: options.logger,
  });
  opened.push(redis);
  return {
    redis,
    address: redactUrl(url),
    embedded: false,
    close: async () => {
      await Promise.all(
        opened.splice(0).map(async (r) => {
          if (r.status === 'end') return;
          try {
            await r.quit();
          } catch {
            // Already quit by its user (the monitor, the wake subscriber). On a
            // closed socket disconnect() only arms ioredis's 2 s timer, which
            // would hold the process open after shutdown.
            const status: string = r.status; // changed while quit() was pending
            if (status !== 'end') r.disconnect();
          }
        }),
      );
    },
  };
}
