import type { QueueKeys } from './keys';
import type { RedisClient } from './redis-handle';

/**
 * Scans of a queue's recorded state, for whoever replays it to a follower
 * that was not listening (the API's event streams, `taskq watch` on a queue
 * it found late): read-only scripts, each an atomic step on the server, so
 * that only what is passed on crosses the network (not every stored record,
 * nor any task's payload).
 */

/**
 * One HSCAN step of the status hash: the cursor, then the stored records
 * whose seq is above ARGV[2]. A record's first `"seq":` is its own (an id
 * has no quotes, and quotes in a reason are escaped).
 */
const SCAN_CHANGED = `local r = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[3])
local since = tonumber(ARGV[2])
local out = { r[1] }
local kv = r[2]
for i = 2, #kv, 2 do
  local seq = tonumber(string.match(kv[i], '"seq":(%d+)') or '')
  if seq and seq > since then out[#out + 1] = kv[i] end
end
return out`;

/**
 * One HSCAN step of the tasks hash: the cursor, then (id, enqueue time) of
 * each task enqueued at or after ARGV[2] (a stored body begins with its
 * enqueue time) that has no stored record: a task still where enqueue put
 * it, whose Queued record was published but not stored.
 */
const SCAN_UNMOVED = `local r = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[3])
local since = tonumber(ARGV[2])
local out = { r[1] }
local kv = r[2]
local ids, ats = {}, {}
for i = 1, #kv, 2 do
  local at = string.match(kv[i + 1], '^%[(%d+),')
  if at and tonumber(at) >= since then
    ids[#ids + 1] = kv[i]
    ats[#ats + 1] = at
  end
end
if #ids > 0 then
  local recs = redis.call('HMGET', KEYS[2], unpack(ids))
  for j = 1, #ids do
    if not recs[j] then
      out[#out + 1] = ids[j]
      out[#out + 1] = ats[j]
    end
  end
end
return out`;

/** Fields each scan step looks at: a step blocks Redis for about as long as an HGETALL of this many. */
const SCAN_COUNT = 1000;

/** The stored records of the queue whose seq is above `since` (raw, as stored; each once, in no particular order). */
export async function scanChanged(redis: RedisClient, keys: QueueKeys, since: number, each: (raw: string) => void): Promise<void> {
  let cursor = '0';
  do {
    const reply = (await redis.eval(SCAN_CHANGED, 1, keys.status, cursor, since, SCAN_COUNT)) as string[];
    cursor = reply[0] ?? '0';
    for (let i = 1; i < reply.length; i++) each(reply[i]);
  } while (cursor !== '0');
}

/** The tasks without a stored record enqueued at or after `since` (Redis time, ms): id and enqueue time. */
export async function scanUnmoved(redis: RedisClient, keys: QueueKeys, since: number, each: (id: string, enqueuedAt: number) => void): Promise<void> {
  let cursor = '0';
  do {
    const reply = (await redis.eval(SCAN_UNMOVED, 2, keys.tasks, keys.status, cursor, since, SCAN_COUNT)) as string[];
    cursor = reply[0] ?? '0';
    for (let i = 1; i + 1 < reply.length; i += 2) each(reply[i], Number(reply[i + 1]));
  } while (cursor !== '0');
}
