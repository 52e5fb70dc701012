import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { RedisServerNotFoundError } from './errors/redis-server-not-found-error';

/**
 * The absolute path of the first executable `redis-server` on `searchPath`
 * (default: this process's PATH). Throws RedisServerNotFoundError, whose
 * message says how to install it.
 */
export function findRedisServer(searchPath: string = process.env['PATH'] ?? ''): string {
  for (const dir of searchPath.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new RedisServerNotFoundError(searchPath);
}
