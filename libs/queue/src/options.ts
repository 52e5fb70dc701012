import type { Logger } from '@taskq/recorder';
import { DEFAULT_QUEUE, type RetentionOptions } from './config';
import { DEFAULT_KEY_PREFIX, queueKeys, type QueueKeys } from './keys';
import { RedisHandle, type Connection } from './redis-handle';

/** Options every taskq object takes: which queue, and how to reach Redis. */
export interface QueueClientOptions {
  /** Queue name: 1–200 of `A-Z a-z 0-9 _ . : -`. Default `default`. */
  readonly queue?: string;
  /**
   * How to reach Redis: a URL, ioredis options, or an ioredis client (Redis or
   * Cluster) that stays yours to close. Another taskq object's `RedisHandle`
   * shares its connection. Default `redis://127.0.0.1:6379`.
   */
  readonly connection?: Connection | RedisHandle;
  /** Prefix of every key (no braces). Default `taskq`. */
  readonly prefix?: string;
  /** Give up connecting (a URL or options) after this long, ms: RedisConnectionError naming the address. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Where log lines go (pino or any object with error/warn/info/debug/child). Default: nowhere. */
  readonly logger?: Logger;
}

/** Options of objects that apply the queue's retention (consumers, janitors, worker pools). */
export interface RetentionClientOptions extends QueueClientOptions {
  /** How long finished tasks are remembered. Default DEFAULT_RETENTION (24 h, 10,000 of each kind). */
  readonly retention?: RetentionOptions;
}

/** The keys, and the connection with whether this object opened it (and so closes it). */
export interface ResolvedClient {
  readonly keys: QueueKeys;
  readonly handle: RedisHandle;
  readonly ownsHandle: boolean;
}

/** Builds the keys (throws InvalidQueueNameError) and the connection handle of `options`. */
export function resolveClient(options: QueueClientOptions, connectionName?: string): ResolvedClient {
  const keys = queueKeys(options.queue ?? DEFAULT_QUEUE, options.prefix ?? DEFAULT_KEY_PREFIX);
  const given = options.connection;
  if (given instanceof RedisHandle) return { keys, handle: given, ownsHandle: false };
  const handle = new RedisHandle(given, { connectTimeoutMs: options.connectTimeoutMs, logger: options.logger, connectionName });
  return { keys, handle, ownsHandle: true };
}
