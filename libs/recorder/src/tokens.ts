/**
 * tsyringe injection tokens for values that are not classes. Apps register
 * them in their composition root; libraries only `@inject` them.
 */
export const TOKENS = {
  /** An ioredis client (Redis or Cluster) for ordinary commands. */
  Redis: Symbol.for('taskq.Redis'),
  /** A factory `() => Redis` for connections that enter subscriber mode. */
  RedisFactory: Symbol.for('taskq.RedisFactory'),
  /** `QueueConfig`: queue name and key prefix. */
  QueueConfig: Symbol.for('taskq.QueueConfig'),
  /** A `Logger` (pino-compatible). */
  Logger: Symbol.for('taskq.Logger'),
} as const;
