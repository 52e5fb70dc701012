import type { QueueKeys } from './keys';
import type { RedisClient } from './redis-handle';

/** How long the per-minute outcome counts are kept: the janitor deletes older minutes. */
export const THROUGHPUT_KEPT_MS = 60 * 60_000;

/** Most minutes readThroughput gives (what the janitor keeps). */
export const MAX_THROUGHPUT_MINUTES = 60;

/** One minute of a queue's outcomes. */
export interface ThroughputMinute {
  /** Start of the minute, ms since 1970 (Redis time). */
  readonly at: number;
  /** Tasks acknowledged Done in that minute. */
  readonly done: number;
  /** Failed attempts in that minute: tasks recorded Retrying, Dead or Failed. */
  readonly failed: number;
}

/**
 * The last `minutes` minutes' fields of the throughput hash, on Redis's
 * clock (the one the scripts count by): the current minute's start, then
 * each minute's done and failed counts, oldest first.
 */
const READ_THROUGHPUT = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000.0 + math.floor(tonumber(t[2]) / 1000)
local minute = now - now % 60000
local n = tonumber(ARGV[1])
local fields = {}
for i = n - 1, 0, -1 do
  local m = string.format('%.0f', minute - i * 60000.0)
  fields[#fields + 1] = m .. ':done'
  fields[#fields + 1] = m .. ':failed'
end
local values = redis.call('HMGET', KEYS[1], (table.unpack or unpack)(fields))
local out = { string.format('%.0f', minute) }
for i = 1, #fields do
  local v = values[i]
  if type(v) ~= 'string' then v = '0' end
  out[i + 1] = v
end
-- a table built by a constructor: the in-memory Redis (ioredis-mock) converts only those
return { (table.unpack or unpack)(out) }`;

/**
 * A queue's outcomes over the last `minutes` minutes (1-60; the current
 * minute, still counting, is the last), oldest first, with zeros for minutes
 * without any: what the fetch (acks), fail and recover scripts counted in
 * `taskq:{q}:throughput`. One script call.
 */
export async function readThroughput(redis: RedisClient, keys: QueueKeys, minutes: number): Promise<ThroughputMinute[]> {
  if (!(Number.isInteger(minutes) && minutes >= 1 && minutes <= MAX_THROUGHPUT_MINUTES)) {
    throw new RangeError(`minutes must be a whole number from 1 to ${MAX_THROUGHPUT_MINUTES}, got ${minutes}`);
  }
  const reply = (await redis.eval(READ_THROUGHPUT, 1, keys.throughput, minutes)) as string[];
  const current = Number(reply[0]);
  const out: ThroughputMinute[] = [];
  for (let i = 0; i < minutes; i++) {
    out.push({ at: current - (minutes - 1 - i) * 60_000, done: Number(reply[1 + 2 * i]), failed: Number(reply[2 + 2 * i]) });
  }
  return out;
}

/** A registered consumer (a worker pool) and its last heartbeat. */
export interface ConsumerInfo {
  readonly id: string;
  /** Redis server time of its last heartbeat, ms since 1970. */
  readonly lastHeartbeatAt: number;
}

/** The queue's registered consumers (the consumers sorted set), the most recently heard from first. */
export async function readConsumers(redis: RedisClient, keys: QueueKeys): Promise<ConsumerInfo[]> {
  const flat = await redis.zrevrange(keys.consumers, 0, -1, 'WITHSCORES');
  const out: ConsumerInfo[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: flat[i] ?? '', lastHeartbeatAt: Number(flat[i + 1]) });
  return out;
}
