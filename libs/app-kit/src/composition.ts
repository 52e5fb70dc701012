import type { DependencyContainer } from 'tsyringe';
import type { Logger } from '@taskq/recorder';
import { TOKENS, type QueueConfig } from '@taskq/queue';
import type { RedisConnection } from './redis';

/**
 * Registers what every taskq component needs — the Redis client (shared by
 * all; pub/sub connections are its duplicates), the queue and the logger — in
 * an app's container. Apps add their own options, call the libraries'
 * register helpers (registerQueue, registerMonitor, registerWorkerPool) and
 * resolve their components.
 */
export function registerCore(
  c: DependencyContainer,
  conn: RedisConnection,
  config: QueueConfig,
  logger: Logger,
): DependencyContainer {
  c.registerInstance(TOKENS.Connection, conn.redis);
  c.registerInstance<QueueConfig>(TOKENS.QueueConfig, config);
  c.registerInstance(TOKENS.Logger, logger);
  return c;
}
