import Redis, { type RedisOptions } from 'ioredis';
import { silentLogger, type Logger } from '@taskq/recorder';
import { RedisConnectionError } from './errors/redis-connection-error';
import { InvalidRedisUrlError } from './errors/invalid-redis-url-error';
import { connectCluster, isClusterUrl, parseClusterUrl, redactClusterUrl } from './cluster-url';
import { isSentinelUrl, parseSentinelUrl, redactSentinelUrl, releaseSentinelsOnEnd, sentinelClientDefaults, sentinelOptionsOf } from './sentinel-url';
import type { RedisClient } from './redis-handle';
import { guardStateRestore } from './reconnect-guard';

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
  if (isClusterUrl(url)) return redactClusterUrl(url);
  if (isSentinelUrl(url)) return redactSentinelUrl(url);
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
 * Checks a Redis URL before anything may print or parse it loosely: Node's
 * url.parse (which ioredis uses) prints a DEP0170 warning with the whole URL,
 * password included, for a bad port, and ioredis then quietly uses 6379.
 * Accepted: `redis://` or `rediss://`, an optional user and password, a host,
 * a port 1-65535, an optional database number (`/3`), ioredis query options;
 * or a Unix socket path (`/run/redis.sock`). Throws InvalidRedisUrlError
 * naming the problem and the redacted URL.
 */
export function assertValidRedisUrl(url: string): void {
  if (url.startsWith('/')) return; // a Unix socket path
  if (isClusterUrl(url)) {
    parseClusterUrl(url);
    return;
  }
  if (isSentinelUrl(url)) {
    parseSentinelUrl(url);
    return;
  }
  const shown = redactUrl(url);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  if (scheme === undefined) throw new InvalidRedisUrlError(`invalid Redis URL ${shown}: expected redis://host:port (or rediss:// for TLS)`);
  if (scheme !== 'redis' && scheme !== 'rediss') {
    throw new InvalidRedisUrlError(`invalid Redis URL ${shown}: the scheme is ${scheme}://; taskq connects with redis:// or rediss:// (TLS), redis+cluster:// to a Redis Cluster, or redis+sentinel:// to a master through Redis Sentinel`);
  }
  const port = /^[a-z]+:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?/i.exec(url)?.[1];
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    throw new InvalidRedisUrlError(`invalid Redis URL ${shown}: the port must be a number from 1 to 65535, got ${JSON.stringify(port)}`);
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidRedisUrlError(`invalid Redis URL ${shown}: expected ${scheme}://[user:password@]host[:port][/db]`);
  }
  if (u.hostname === '') throw new InvalidRedisUrlError(`invalid Redis URL ${shown}: no host`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,9}$/.test(db)) {
    throw new InvalidRedisUrlError(`invalid Redis URL ${shown}: the path must be a database number (/0, /1, …), got ${JSON.stringify(u.pathname)}`);
  }
}

/**
 * Why retrying a first connection cannot help, or undefined: a refused
 * password or a missing one, an unknown host name, a database the server
 * does not have. A refused or reset connection (a server starting) is retried.
 */
function hopelessConnectError(err: Error): string | undefined {
  const message = err.message;
  if (/^(WRONGPASS|NOAUTH)\b/.test(message) || /^ERR invalid (password|username-password)/.test(message)) return `authentication failed: ${message}`;
  if ((err as NodeJS.ErrnoException).code === 'ENOTFOUND') return `unknown host: ${message}`;
  if (/DB index is out of range/.test(message)) return `the server has no such database: ${message}`;
  // ioredis's message for it begins "All sentinels are unreachable", which they are not
  if (/ERR No such master with that name/.test(message)) return 'the sentinels watch no master of that name (ERR No such master with that name)';
  return undefined;
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
  if (typeof target === 'string') assertValidRedisUrl(target);
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
    // a Sentinel URL becomes the options ioredis takes for it ({ sentinels, name, … })
    const resolved = typeof target === 'string' && isSentinelUrl(target) ? sentinelOptionsOf(parseSentinelUrl(target)) : target;
    if (typeof resolved === 'string') redis = new Redis(resolved, own);
    else {
      const merged: RedisOptions = { ...resolved, ...own, connectionName: own.connectionName ?? resolved.connectionName };
      redis = new Redis({ ...merged, ...sentinelClientDefaults(merged) });
      releaseSentinelsOnEnd(redis);
    }
    guardStateRestore(redis);
  } catch (cause) {
    throw new RedisConnectionError(address, `invalid Redis URL ${address}: ${String(cause)}`, { cause });
  }
  let failNow: ((why: string) => void) | undefined;
  // Without a listener ioredis prints every failed attempt as an unhandled error.
  redis.on('error', (err: Error) => {
    lastError = err;
    if (everReady) logger.debug({ err: err.message, address }, `redis ${address}: ${err.message}`);
    else {
      const why = hopelessConnectError(err);
      if (why !== undefined) failNow?.(why);
    }
  });
  redis.on('reconnecting', () => {
    if (everReady) logger.warn({ address }, `redis ${address}: connection lost, reconnecting`);
  });

  await new Promise<void>((resolve, reject) => {
    const fail = (hopeless?: string): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      failNow = undefined;
      // ioredis's disconnect() gives the socket disconnectTimeout (2 s) to close;
      // here it is closed already or abandoned, and the timer would hold the
      // process open for 2 s after this rejection.
      const connector = (redis as unknown as { connector?: { disconnectTimeout?: number } }).connector;
      if (connector) connector.disconnectTimeout = 0;
      redis.disconnect();
      const why = lastError ? `: ${lastError.message}` : '';
      const message = hopeless !== undefined ? `cannot connect to Redis at ${address}: ${hopeless}` : `cannot connect to Redis at ${address} within ${timeoutMs} ms${why}`;
      reject(new RedisConnectionError(address, message, { cause: lastError }));
    };
    failNow = (why) => fail(why);
    const onReady = (): void => {
      clearTimeout(timer);
      // Only the first connection can fail this way. Left attached, the 'end'
      // of a later quit() would call disconnect(), whose 2 s socket timer keeps
      // the process alive after it has closed everything.
      redis.off('end', onEnd);
      failNow = undefined;
      everReady = true;
      resolve();
    };
    const timer = setTimeout(() => fail(), timeoutMs + 50);
    const onEnd = (): void => fail();
    redis.once('ready', onReady);
    redis.once('end', onEnd);
    redis.connect().catch(() => undefined); // failures arrive as 'error'/'end'
  });
  return redis;
}

/**
 * Connects to a server (see connectRedis) or, for a `redis+cluster://` URL,
 * to a Redis Cluster (see connectCluster): the client taskq objects share.
 */
export function connectRedisClient(target: string | RedisOptions, options: ConnectOptions = {}): Promise<RedisClient> {
  if (typeof target === 'string' && isClusterUrl(target)) return connectCluster(target, options);
  return connectRedis(target, options);
}
