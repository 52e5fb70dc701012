import type { Redis } from 'ioredis';
import type { QueueKeys } from '@taskq/recorder';

/** Every processing list of the queue that exists (Redis deletes a list when it empties). */
export async function processingLists(redis: Redis, keys: QueueKeys): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', keys.processing('*'), 'COUNT', 1000);
    cursor = next;
    for (const key of found) out[key] = await redis.lrange(key, 0, -1);
  } while (cursor !== '0');
  return out;
}

/** Every key of the queue that exists (all share the `{queue}` hash tag). */
export async function existingKeys(redis: Redis, keys: QueueKeys): Promise<string[]> {
  const prefix = keys.ready.slice(0, -'ready'.length);
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    out.push(...found);
  } while (cursor !== '0');
  return out.sort();
}
