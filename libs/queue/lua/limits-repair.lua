-- limits-repair: the janitor's check of the limits' bookkeeping, each pass.
-- Every script that takes a running task out of a processing list frees
-- its slot, so this finds nothing in normal operation; it bounds what a
-- missed path or a hand edit would cost (a slot leaked for good, parked tasks
-- nobody takes). Drops held entries of tasks no longer in flight (not in the
-- fence hash) or of types without a concurrency limit; sets each type's
-- active count to what the held hash holds; returns to the ready structures
-- parked tasks of a scope no type has any more; with no limit at all, deletes
-- whatever of the limits' keys is left. Announces tasks that can start now on
-- the wake channel. One EXISTS when the queue has none of these keys.
-- KEYS[1] limits: the limits hash
-- KEYS[2] limitHeld: id -> type of the running tasks that hold a slot
-- KEYS[3] limitActive: type -> slots held
-- KEYS[4] limitStarts: starts under a rate limit
-- KEYS[5] parked: parked tasks
-- KEYS[6] fence: fence hash (the tasks in flight)
-- KEYS[7] ready: ready list
-- KEYS[8] prioritized: prioritized sorted set
-- KEYS[9] priorities: priorities hash
-- ARGV[1] wake channel
-- Returns { held entries dropped, active counts corrected, parked tasks returned }.
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]) == 0 then return { 0, 0, 0 } end
local lim = false
if redis.call('EXISTS', KEYS[1]) == 1 then lim = taskq_limits_load(KEYS[1]) end
local dropped, fixed, unparked, wake = 0, 0, 0, 0

-- held: running tasks (in the fence hash) of types with a concurrency limit
local count = {}
local flat = redis.call('HGETALL', KEYS[2])
if #flat > 0 then
  local ids = {}
  for i = 1, #flat, 2 do ids[#ids + 1] = flat[i] end
  local gone = {}
  for from = 1, #ids, 1000 do
    local chunk = {}
    for i = from, math.min(#ids, from + 999) do chunk[#chunk + 1] = ids[i] end
    local tokens = redis.call('HMGET', KEYS[6], taskq_unpack(chunk))
    for j, id in ipairs(chunk) do
      local t = flat[2 * (from + j - 1)]
      local e = lim and lim.types[t]
      if taskq_str(tokens[j]) and e and e.cap then
        count[t] = (count[t] or 0) + 1
      else
        gone[#gone + 1] = id
      end
    end
  end
  for from = 1, #gone, 1000 do
    redis.call('HDEL', KEYS[2], taskq_unpack(gone, from, math.min(#gone, from + 999)))
  end
  dropped = #gone
end

-- active: what held counts
local active = redis.call('HGETALL', KEYS[3])
local seen = {}
for i = 1, #active, 2 do
  local t, n = active[i], tonumber(active[i + 1])
  seen[t] = true
  local want = count[t] or 0
  if n ~= want then
    fixed = fixed + 1
    if want == 0 then redis.call('HDEL', KEYS[3], t) else redis.call('HSET', KEYS[3], t, taskq_int(want)) end
    local e = lim and lim.types[t]
    if e and n > want then
      wake = wake + math.min(n - want, taskq_parked_count(KEYS[5], e.scope))
    end
  end
end
for t, n in pairs(count) do
  if not seen[t] then
    fixed = fixed + 1
    redis.call('HSET', KEYS[3], t, taskq_int(n))
  end
end

-- parked tasks of a scope that no limited type has
local total = redis.call('ZCARD', KEYS[5])
if total > 0 then
  local known, scopes = 0, {}
  if lim then
    for _, e in pairs(lim.types) do
      scopes[e.scope] = true
      known = known + taskq_parked_count(KEYS[5], e.scope)
    end
  end
  if known < total then
    local all = redis.call('ZRANGE', KEYS[5], 0, -1, 'WITHSCORES')
    local back = {}
    for i = 1, #all, 2 do
      if not scopes[math.floor(tonumber(all[i + 1]) / TASKQ_SCOPE_SPAN)] then back[#back + 1] = all[i] end
    end
    taskq_unpark(KEYS[5], KEYS[7], KEYS[8], KEYS[9], back)
    unparked = #back
    wake = wake + #back
  end
end

if not lim then redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5]) end
if wake > 0 then redis.call('PUBLISH', ARGV[1], wake) end
return { dropped, fixed, unparked }
