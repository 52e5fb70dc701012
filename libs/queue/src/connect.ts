import Redis, { type RedisOptions } from 'ioredis';
import { silentLogger, type Logger } from '@taskq/recorder';
import { RedisConnectionError } from './errors/redis-connection-error';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

export interface ConnectOptions {
  /** Give up if the first connection is not ready within this time, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Connection name shown by CLIENT LIST. Default none. */
  readonly connectionName?: string;
  /** Logs reconnects after the first connection. Default silent. */
  readonly logger?: Logger;
  /** Extra ioredis options (retryStrategy and lazyConnect are taskq's). */
  readonly redisOptions?: RedisOptions;
}

/** Where a connection goes, safe to print: `redis://host:port/db` (no user or password), or the sentinel group. */
export function describeOptions(options: RedisOptions): string {
  if (options.sentinels && options.sentinels.length > 0) {
    const first = options.sentinels[0];
    return `sentinel ${options.name ?? 'mymaster'} via ${first?.host ?? '127.0.0.1'}:${first?.port ?? 26379}`;
  }
  if (options.path) return `redis+unix://${options.path}`;
  const scheme = options.tls ? 'rediss' : 'redis';
  const db = options.db ? `/${options.db}` : '';
  return `${scheme}://${options.host ?? '127.0.0.1'}:${options.port ?? 6379}${db}`;
}

/** The URL with any password (and user) replaced by `***`, safe to print. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    // `redis://secret@host` is read by some clients as a password: hide a lone user name too
    else if (u.username) u.username = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/([^@/]*)@/, '//***@');
  }
}

/**
 * Connects to Redis at `target` (a URL, or ioredis options such as
 * `{ host, port, password }` or `{ sentinels, name }`) and resolves once the
 * connection is ready. While connecting, retries with backoff until
 * `connectTimeoutMs`, then rejects with a RedisConnectionError naming the
 * (redacted) address. Once connected, it reconnects without limit (a Redis
 * restart is survivable).
 */
export async function connectRedis(target: string | RedisOptions, options: ConnectOptions = {}): Promise<Redis> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const logger = options.logger ?? silentLogger;
  const address = typeof target === 'string' ? redactUrl(target) : describeOptions(target);
  const started = Date.now();
  let everReady = false;
  let lastError: Error | undefined;

  let redis: Redis;
  try {
    const own: RedisOptions = {
      ...options.redisOptions,
      lazyConnect: true,
      connectionName: options.connectionName ?? options.redisOptions?.connectionName,
      connectTimeout: Math.min(timeoutMs, 10_000),
      retryStrategy: (times: number) => {
        if (!everReady && Date.now() - started >= timeoutMs) return null;
        return Math.min(50 * 2 ** Math.min(times, 6), 2000);
      },
    };
    redis = typeof target === 'string' ? new Redis(target, own) : new Redis({ ...target, ...own, connectionName: own.connectionName ?? target.connectionName });
  } catch (cause) {
    throw new RedisConnectionError(address, `invalid Redis URL ${address}: ${String(cause)}`, { cause });
  }
  // Without a listener ioredis prints every failed attempt as an unhandled error.
  redis.on('error', (err: Error) => {
    lastError = err;
    if (everReady) logger.debug({ err: err.message, address }, `redis ${address}: ${err.message}`);
  });
  redis.on('reconnecting', () => {
    if (everReady) logger.warn({ address }, `redis ${address}: connection lost, reconnecting`);
  });

  await new Promise<void>((resolve, reject) => {
    const fail = (): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', fail);
      // ioredis's disconnect() gives the socket disconnectTimeout (2 s) to close;
      // here it is closed already or abandoned, and the timer would hold the
      // process open for 2 s after this rejection.
      const connector = (redis as unknown as { connector?: { disconnectTimeout?: number } }).connector;
      if (connector) connector.disconnectTimeout = 0;
      redis.disconnect();
      const why = lastError ? `: ${lastError.message}` : '';
      reject(
        new RedisConnectionError(address, `cannot connect to Redis at ${address} within ${timeoutMs} ms${why}`, {
          cause: lastError,
        }),
      );
    };
    const onReady = (): void => {
      clearTimeout(timer);
      // Only the first connection can fail this way. Left attached, the 'end'
      // of a later quit() would call disconnect(), whose 2 s socket timer keeps
      // the process alive after it has closed everything.
      redis.off('end', fail);
      everReady = true;
      resolve();
    };
    const timer = setTimeout(fail, timeoutMs + 50);
    redis.once('ready', onReady);
    redis.once('end', fail);
    redis.connect().catch(() => undefined); // failures arrive as 'error'/'end'
  });
  return redis;
}
