import type { DependencyContainer } from 'tsyringe';
import { TOKENS, type Logger, type QueueConfig } from '@taskq/recorder';
import type { RedisConnection } from './redis';

/**
 * Registers what every taskq component needs — the Redis client, a factory
 * for subscriber connections, the queue and the logger — in an app's
 * container. Apps add their own options and resolve their components.
 */
export function registerCore(
  c: DependencyContainer,
  conn: RedisConnection,
  config: QueueConfig,
  logger: Logger,
): DependencyContainer {
  c.registerInstance(TOKENS.Redis, conn.redis);
  c.registerInstance(TOKENS.RedisFactory, conn.factory);
  c.registerInstance<QueueConfig>(TOKENS.QueueConfig, config);
  c.registerInstance(TOKENS.Logger, logger);
  return c;
}
