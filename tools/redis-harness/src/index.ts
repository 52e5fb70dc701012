export type { RedisServer, RedisServerOptions } from './redis-server';
export { startRedisServer } from './redis-server';
export { findRedisServer } from './find-redis-server';
export { RedisServerNotFoundError } from './errors/redis-server-not-found-error';
export { RedisServerStartError } from './errors/redis-server-start-error';
export { TEST_REDIS_URL_ENV } from './jest-global-state';
export { RawMonitor, monitored, type MonitoredCommand } from './raw-monitor';
export { startRedisCluster, type RedisCluster, type RedisClusterOptions } from './redis-cluster';
export { respCommand, RespErrorReply, type RespReply } from './resp';
