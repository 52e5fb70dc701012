import type { Redis } from 'ioredis';
import { Consumer } from '../consumer';
import type { RetentionOptions } from '../config';
import type { FetchedTask } from '../fetched-task';
import { queueKeys } from '../keys';
import { Queue } from '../queue';
import type { RealRedis } from './redis-server';

// Helpers of the real-redis suites of the per-status indexes and Queue.listTasks.

let queues = 0;

/** A queue of its own on the file's server, and a consumer `c1` of it (not registered yet). */
export function listSetup(real: RealRedis, retention?: RetentionOptions) {
  const name = `list-${++queues}`;
  const redis: Redis = real.redis;
  const config = { queue: name, connection: redis, ...(retention ? { retention } : {}) };
  const consumer = new Consumer({ ...config, id: 'c1' });
  return { redis, k: queueKeys(name), queue: new Queue(config), consumer, config };
}

/** Fetches exactly these ids (they must be next in line), one worker each (`w0`, `w1`, … in take order). */
export async function fetchAll(consumer: Consumer, ids: readonly string[]): Promise<Map<string, FetchedTask>> {
  const got = (await consumer.fetch(ids.map((_, i) => `w${i}`))).tasks;
  expect(got.map((t) => t.id).sort()).toEqual([...ids].sort());
  return new Map(got.map((t) => [t.id, t]));
}

/** Enqueues these ids and ends each, in order, one script call each: Done, Dead (its one attempt failed), Failed or Retrying (after retryInMs(i)). */
export async function finish(queue: Queue, consumer: Consumer, ids: readonly string[], how: 'done' | 'dead' | 'reject' | { retryInMs: (i: number) => number }): Promise<void> {
  await queue.enqueueMany(ids.map((id) => ({ id, type: 't', maxAttempts: how === 'dead' ? 1 : 3 })));
  const held = await fetchAll(consumer, ids);
  for (const [i, id] of ids.entries()) {
    const t = held.get(id)!;
    if (how === 'done') expect(await consumer.ack(id, t.worker, t.token)).toBe(true);
    else if (how === 'dead') expect(await consumer.fail(id, t.worker, t.token, { mode: 'dead', reason: 'boom' })).toBe('Dead');
    else if (how === 'reject') expect(await consumer.fail(id, t.worker, t.token, { mode: 'reject', reason: 'no handler' })).toBe('Failed');
    else expect(await consumer.fail(id, t.worker, t.token, { mode: 'retry', reason: 'boom', delayMs: how.retryInMs(i) })).toBe('Retrying');
  }
}

/** Enqueues these ids and cancels each, in order, while it waits. */
export async function cancelWaiting(queue: Queue, ids: readonly string[]): Promise<void> {
  await queue.enqueueMany(ids.map((id) => ({ id, type: 't' })));
  for (const id of ids) expect((await queue.cancel(id)).outcome).toBe('cancelled');
}

/** `<prefix>0` … `<prefix><n-1>`. */
export const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** A sorted set's members, sorted. */
export async function zmembers(redis: Redis, key: string): Promise<string[]> {
  return (await redis.zrange(key, 0, -1)).sort();
}
