import { FENCE_ENCODING_FIELD, type QueueKeys } from './keys';
import type { RedisClient } from './redis-handle';

/** Task counts of a queue (the worker's metrics read them on each scrape; the ops CLI's `taskq stats`). */
export interface QueueCounts {
  readonly ready: number;
  readonly delayed: number;
  readonly inProgress: number;
  readonly dead: number;
  /** Rejected (Failed) tasks in the rejected list. */
  readonly failed: number;
  /** Done and Cancelled tasks still remembered (the retention lists: `retained` and `cancelled`). */
  readonly finished: number;
  /** Registered consumers (worker pools; one per process and queue). */
  readonly workers: number;
  /** Whether the queue is paused. */
  readonly paused: boolean;
  /** Seconds since the enqueue of the oldest ready task (of any priority); 0 when none is ready. */
  readonly oldestReadyAgeSeconds: number;
}

/**
 * The enqueue time of the oldest ready task: the consuming end of the ready
 * list (the default priority) and the first task of each priority level in
 * the prioritized set (FIFO within a level, so each level's first is its
 * oldest, unless one was taken back). A stored body begins with its enqueue time.
 */
const OLDEST_READY = `local ids = {}
local id = redis.call('LINDEX', KEYS[1], -1)
if id then ids[1] = id end
if redis.call('EXISTS', KEYS[3]) == 1 then
  for level = 0, 9 do
    local low = (9 - level) * 1e13
    local first = redis.call('ZRANGEBYSCORE', KEYS[3], string.format('%.0f', low), '(' .. string.format('%.0f', low + 1e13), 'LIMIT', 0, 1)
    if first[1] then ids[#ids + 1] = first[1] end
  end
end
local oldest = false
for _, task in ipairs(ids) do
  local at = tonumber(string.match(redis.call('HGET', KEYS[2], task) or '', '^%[(%d+),') or '')
  if at and (not oldest or at < oldest) then oldest = at end
end
if not oldest then return false end
return string.format('%.0f', oldest)`;

/** Reads a queue's counts in one pipeline: cheap enough for every scrape. */
export async function readQueueCounts(redis: RedisClient, keys: QueueKeys, now: number = Date.now()): Promise<QueueCounts> {
  const replies = await redis
    .pipeline()
    .llen(keys.ready)
    .zcard(keys.prioritized)
    .zcard(keys.parked)
    .zcard(keys.delayed)
    .hlen(keys.fence)
    .hexists(keys.fence, FENCE_ENCODING_FIELD)
    .llen(keys.dead)
    .llen(keys.rejected)
    .llen(keys.finished)
    .llen(keys.cancelled)
    .zcard(keys.consumers)
    .exists(keys.paused)
    .eval(OLDEST_READY, 3, keys.ready, keys.tasks, keys.prioritized)
    .exec();
  const values = (replies ?? []).map(([err, value]) => {
    if (err) throw err;
    return value;
  });
  const [ready, prioritized, parked, delayed, fence, encodingField, dead, failed, done, cancelled, workers, paused, oldest] = values;
  const enqueuedAt = typeof oldest === 'string' ? Number(oldest) : NaN;
  return {
    ready: Number(ready) + Number(prioritized) + Number(parked), // parked: ready tasks of a type at its limit
    delayed: Number(delayed),
    inProgress: Number(fence) - Number(encodingField),
    dead: Number(dead),
    failed: Number(failed),
    finished: Number(done) + Number(cancelled),
    workers: Number(workers),
    paused: Number(paused) === 1,
    oldestReadyAgeSeconds: Number.isFinite(enqueuedAt) ? Math.max(0, (now - enqueuedAt) / 1000) : 0,
  };
}

