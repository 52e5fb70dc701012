export { createLogger, prettyLine, LOG_LEVELS } from './logger';
export type { LogLevel, LoggerOptions } from './logger';
export { openRedis } from './redis';
export type { RedisConnection, OpenRedisOptions } from './redis';
export { withCommonOptions, withConnectionOptions, throwingUsage, UsageError, positiveInt, runMain, onShutdownSignals, EXIT } from './cli';
export type { CommonArgs, ConnectionArgs } from './cli';
export { registerCore } from './composition';
