import type { Cluster, Redis } from 'ioredis';
import { UnsupportedRedisError } from './errors/unsupported-redis-error';

/** The oldest Redis the scripts run on: the batch fetch uses `RPOP key count` (6.2). */
export const MIN_REDIS_VERSION = [6, 2] as const;



/**
 * Rejects with UnsupportedRedisError when the server reports a version older
 * than MIN_REDIS_VERSION. A server that does not report one passes.
 */
export async function assertRedisVersion(redis: Redis | Cluster): Promise<void> {
  const info = await redis.info('server');
  const m = /redis_version:(\d+)\.(\d+)/.exec(typeof info === 'string' ? info : '');
  if (!m) return;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const [needMajor, needMinor] = MIN_REDIS_VERSION;
  if (major < needMajor || (major === needMajor && minor < needMinor)) {
    throw new UnsupportedRedisError(`taskq needs Redis ${needMajor}.${needMinor} or later; this server runs ${m[1]}.${m[2]}`);
  }
}
