import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import type { Logger } from '@taskq/recorder';
import { connectRedis, redactUrl } from '@taskq/queue';

/** The Redis an app talks to: a client for commands and a factory for subscriber connections. */
export interface RedisConnection {
  readonly redis: Redis;
  /** Opens another connection to the same server (pub/sub needs its own). */
  readonly factory: () => Redis;
  /** `redis://…` with any password redacted, or `embedded in-memory Redis`. */
  readonly address: string;
  readonly embedded: boolean;
  /** Closes every connection opened through this object. */
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
  const opened: Redis[] = [];
  if (options.url === undefined) {
    const port = 16379 + Math.floor(Math.random() * 10000);
    const make = (): Redis => {
      const r = new RedisMock({ port }) as unknown as Redis;
      opened.push(r);
      return r;
    };
    return {
      redis: make(),
      factory: make,
      address: 'embedded in-memory Redis',
      embedded: true,
      close: async () => {
        for (const r of opened.splice(0)) r.disconnect();
      },
    };
  }
  const url = options.url;
  const connect = (suffix: string): Promise<Redis> =>
    connectRedis(url, {
      connectTimeoutMs: options.connectTimeoutMs,
      connectionName: `${options.name}-${suffix}`,
      logger: options.logger,
    });
  const redis = await connect('cmd');
  opened.push(redis);
  // Subscriber connections reconnect on their own; commands issued before
  // the connection is ready are queued by ioredis.
  const factory = (): Redis => {
    const sub = redis.duplicate({ connectionName: `${options.name}-sub` });
    sub.on('error', (err: Error) => options.logger.debug({ err: err.message }, 'subscriber connection error'));
    opened.push(sub);
    return sub;
  };
  return {
    redis,
    factory,
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
