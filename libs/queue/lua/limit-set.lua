-- limit-set: sets or removes the global limits of the queue or of one task
-- type (see Queue.setLimit). A type gets a scope number (1, 2, …, the
-- smallest free one) with its first limit; removing a type's limits returns
-- its parked tasks to the ready structures (ahead of the others of their
-- priority, oldest first) and forgets its slots and rate log. When no limit
-- is left, every key of the limits goes, so fetches do no limit work again.
-- Publishes a wake without a count: idle pools look at once (a limit raised
-- or removed may let tasks start).
-- KEYS[1] limits: the limits hash
-- KEYS[2] limitHeld: id -> type of the running tasks that hold a slot
-- KEYS[3] limitActive: type -> slots held
-- KEYS[4] limitStarts: starts under a rate limit
-- KEYS[5] parked: parked tasks
-- KEYS[6] ready: ready list
-- KEYS[7] prioritized: prioritized sorted set
-- KEYS[8] priorities: priorities hash
-- ARGV[1] wake channel
-- ARGV[2] type ('': the queue's own limits)
-- ARGV[3] concurrency ('': none)
-- ARGV[4] rate '<max>/<intervalMs>' ('': none); with ARGV[3] '' too, the scope's limits are removed
-- ARGV[5] most types with limits
-- Returns 1 when the scope had limits before, else 0; or 'too-many' (nothing written) when a new type would pass ARGV[5].
local t, cap, rate = ARGV[2], ARGV[3], ARGV[4]
local remove = cap == '' and rate == ''

local function scopeIds(scope)
  local base = scope * TASKQ_SCOPE_SPAN
  return redis.call('ZRANGEBYSCORE', KEYS[5], taskq_fmt(base), '(' .. taskq_fmt(base + TASKQ_SCOPE_SPAN))
end
local function clearStarts(scope)
  local base = scope * TASKQ_SCOPE_SPAN
  redis.call('ZREMRANGEBYSCORE', KEYS[4], taskq_fmt(base), '(' .. taskq_fmt(base + TASKQ_SCOPE_SPAN))
end
-- the running tasks of a type hold no slot any more (their end frees nothing)
local function dropHeld(name)
  local flat = redis.call('HGETALL', KEYS[2])
  local gone = {}
  for i = 1, #flat, 2 do
    if flat[i + 1] == name then gone[#gone + 1] = flat[i] end
  end
  for from = 1, #gone, 1000 do
    redis.call('HDEL', KEYS[2], taskq_unpack(gone, from, math.min(#gone, from + 999)))
  end
  redis.call('HDEL', KEYS[3], name)
end

local had = 0
if t == '' then
  local before = redis.call('HMGET', KEYS[1], 'concurrency', 'rate')
  if taskq_str(before[1]) or taskq_str(before[2]) then had = 1 end
  if cap ~= '' then redis.call('HSET', KEYS[1], 'concurrency', cap) else redis.call('HDEL', KEYS[1], 'concurrency') end
  if rate ~= '' then
    -- a new max or interval keeps the log: it holds every start of the longest window
    redis.call('HSET', KEYS[1], 'rate', rate)
  elseif redis.call('HDEL', KEYS[1], 'rate') == 1 then
    clearStarts(0)
  end
else
  local prefix = 'type:' .. t .. ':'
  local scope = tonumber(taskq_str(redis.call('HGET', KEYS[1], prefix .. 'scope')) or '')
  if scope then had = 1 end
  if remove then
    if scope then
      taskq_unpark(KEYS[5], KEYS[6], KEYS[7], KEYS[8], scopeIds(scope))
      clearStarts(scope)
      dropHeld(t)
      redis.call('HDEL', KEYS[1], prefix .. 'scope', prefix .. 'concurrency', prefix .. 'rate')
    end
  else
    if not scope then
      local used = {}
      local flat = redis.call('HGETALL', KEYS[1])
      for i = 1, #flat, 2 do
        if string.match(flat[i], '^type:.+:scope$') then used[tonumber(flat[i + 1])] = true end
      end
      scope = 1
      while used[scope] do scope = scope + 1 end
      if scope > tonumber(ARGV[5]) then return 'too-many' end
      redis.call('HSET', KEYS[1], prefix .. 'scope', taskq_int(scope))
    end
    if cap ~= '' then
      redis.call('HSET', KEYS[1], prefix .. 'concurrency', cap)
    elseif redis.call('HDEL', KEYS[1], prefix .. 'concurrency') == 1 then
      dropHeld(t)
    end
    if rate ~= '' then
      redis.call('HSET', KEYS[1], prefix .. 'rate', rate)
    elseif redis.call('HDEL', KEYS[1], prefix .. 'rate') == 1 then
      clearStarts(scope)
    end
  end
end

-- no limit left: none of the limits' keys stays
local any = false
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local field = flat[i]
  if field == 'concurrency' or field == 'rate' or string.match(field, '^type:.+:concurrency$') or string.match(field, '^type:.+:rate$') then any = true end
end
if not any then
  -- every type's parked tasks went back with its limits; anything else too
  taskq_unpark(KEYS[5], KEYS[6], KEYS[7], KEYS[8], redis.call('ZRANGE', KEYS[5], 0, -1))
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
end
redis.call('PUBLISH', ARGV[1], 'limits')
return had
