import type { QueueKeys, RedisClient } from '@taskq/queue';
import { scanKeys } from './redis-fixture';

/** Every processing list of the queue that exists (Redis deletes a list when it empties). */
export async function processingLists(redis: RedisClient, keys: QueueKeys): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const key of await scanKeys(redis, keys.processing('*'))) out[key] = await redis.lrange(key, 0, -1);
  return out;
}

/** Every key of the queue that exists (all share the `{queue}` hash tag). */
export async function existingKeys(redis: RedisClient, keys: QueueKeys): Promise<string[]> {
  const prefix = keys.ready.slice(0, -'ready'.length);
  return scanKeys(redis, `${prefix}*`);
}

/**
 * The structures of the queue that hold `taskId`: 'ready', 'delayed',
 * 'retrying' (the Retrying index), 'dead', 'rejected', 'retained' (Done, kept
 * by retention), 'cancelled' (Cancelled, kept by retention), 'cancels' (a
 * pending cancel request), 'fence' (a live fetch) and every processing list
 * that has it. Empty: the task is nowhere.
 */
export async function whereIs(redis: RedisClient, keys: QueueKeys, taskId: string): Promise<string[]> {
  const out: string[] = [];
  const [ready, delayed, retrying, dead, rejected, retained, cancelled, cancels, fence] = await Promise.all([
    redis.lpos(keys.ready, taskId),
    redis.zscore(keys.delayed, taskId),
    redis.zscore(keys.retrying, taskId),
    redis.lpos(keys.dead, taskId),
    redis.lpos(keys.rejected, taskId),
    redis.lpos(keys.finished, taskId),
    redis.lpos(keys.cancelled, taskId),
    redis.hexists(keys.cancels, taskId),
    redis.hexists(keys.fence, taskId),
  ]);
  if (ready !== null) out.push('ready');
  if (delayed !== null) out.push('delayed');
  if (retrying !== null) out.push('retrying');
  if (dead !== null) out.push('dead');
  if (rejected !== null) out.push('rejected');
  if (retained !== null) out.push('retained');
  if (cancelled !== null) out.push('cancelled');
  if (cancels === 1) out.push('cancels');
  if (fence === 1) out.push('fence');
  for (const [key, ids] of Object.entries(await processingLists(redis, keys))) {
    if (ids.includes(taskId)) out.push(key);
  }
  return out;
}

/** What enqueue writes (ready list, delayed set, tasks and status hashes, seq counter), to compare before/after. */
export async function enqueueState(redis: RedisClient, keys: QueueKeys): Promise<Record<string, unknown>> {
  const [ready, delayed, tasks, status, seq] = await Promise.all([
    redis.lrange(keys.ready, 0, -1),
    redis.zrange(keys.delayed, 0, -1, 'WITHSCORES'),
    redis.hgetall(keys.tasks),
    redis.hgetall(keys.status),
    redis.get(keys.seq),
  ]);
  return { ready, delayed, tasks, status, seq };
}
