-- Queue prelude, after the record prelude, before every queue script:
-- attempt counts of held tasks.
--
-- A fetch hands a task out with a fencing token '<seq>:<attempt>' (fence
-- hash: id -> token) and moves the task's attempt count into it: while a
-- task is held, its count is in its token, not in the attempts hash. When it
-- is to run again (retry, release, recovery) the count goes back to the
-- attempts hash; when it ends (Done, Failed, Dead, Cancelled) the count lives
-- on in its final record only.

-- The attempt in a token as its text, or nil (a token of an earlier version, '<seq>').
local function taskq_token_attempt_text(token)
  local colon = string.find(token, ':', 1, true)
  if colon then return string.sub(token, colon + 1) end
  return nil
end

-- The attempt in a token, or nil.
local function taskq_token_attempt(token)
  local text = taskq_token_attempt_text(token)
  return text and tonumber(text)
end

-- A held task leaves its fetch: its fencing token is revoked and its count
-- goes where `after` says. Returns the count (the attempt to record).
--   'back'  to run again, and this attempt does not count (released, or
--           returned after its worker died or the fetch's reply was lost):
--           the count, one less, goes back to the attempts hash
--   'retry' to run again, and this attempt counts: the count goes back
--   'end'   it ends here (Failed, Dead, Cancelled), this attempt counts: the
--           count lives on in its final record only, so the attempts hash
--           holds only tasks that will run again and is mostly absent
-- Without a token that carries the attempt, the attempts hash's count (an
-- earlier version kept it there).
-- A fence hash value 'h:<ms> <consumer>': the task was handed off to that
-- consumer at <ms> and is not claimed yet (see enqueue.lua). Returns the time
-- (nil if unreadable) and the consumer, or nil for anything else (a fencing
-- token, nothing).
local function taskq_handed(value)
  if type(value) ~= 'string' or string.sub(value, 1, 2) ~= 'h:' then return nil end
  local space = string.find(value, ' ', 3, true)
  if not space then return nil end
  return tonumber(string.sub(value, 3, space - 1)), string.sub(value, space + 1)
end

-- A consumer's processing list, '<base>:processing:<consumer>', from the
-- queue's ready list '<base>:ready' (same hash tag: same Cluster slot): for
-- the scripts that reach the list of a consumer named in a value (hand-off).
local function taskq_processing_key(readyKey, consumer)
  return string.sub(readyKey, 1, -7) .. ':processing:' .. consumer
end

-- HSETs `fields` (id, value, ...) into the fence hash. A hash of up to 128
-- short fields is a listpack, which Redis searches field by field; the fence
-- hash holds every task in flight, so it gets a field whose value is too long
-- for a listpack when it is created: then it stays a hashtable (about 7% of a
-- drain's Redis work). The field's name has a space, so it is never a task id.
local function taskq_fence_set(fenceKey, fields)
  if redis.call('EXISTS', fenceKey) == 0 then
    fields[#fields + 1] = 'fence hash encoding'
    fields[#fields + 1] = 'hashtable: this value is longer than 64 bytes, so Redis never stores this hash as a listpack'
  end
  redis.call('HSET', fenceKey, taskq_unpack(fields))
end

local function taskq_unfence(fenceKey, attemptsKey, id, after)
  local token = taskq_str(redis.call('HGET', fenceKey, id))
  redis.call('HDEL', fenceKey, id)
  -- handed off, not claimed: no attempt began
  if taskq_handed(token) then token = nil end
  local attempt = token and taskq_token_attempt(token)
  if not attempt then attempt = tonumber(taskq_str(redis.call('HGET', attemptsKey, id)) or '0') end
  if after == 'back' then attempt = math.max(0, attempt - 1) end
  if after ~= 'end' and attempt > 0 then
    redis.call('HSET', attemptsKey, id, taskq_int(attempt))
  else
    redis.call('HDEL', attemptsKey, id)
  end
  return attempt
end

-- Tasks left their processing list for good or to run again: their progress
-- (see QueueKeys.progress) describes a run that is over, and goes. One EXISTS
-- while no running task has reported any.
local function taskq_progress_drop(progressKey, ids)
  if #ids > 0 and redis.call('EXISTS', progressKey) == 1 then redis.call('HDEL', progressKey, taskq_unpack(ids)) end
end

-- Outcomes per minute (see QueueKeys.throughput): adds n to the field
-- '<minute start ms>:<outcome>' ('done', or 'failed' for a failed attempt:
-- Retrying, Dead, Failed) of the minute `now` (Redis time, ms) falls in. One
-- HINCRBY per call, whatever n is; nothing when n is 0.
local function taskq_throughput(throughputKey, now, outcome, n)
  if n > 0 then redis.call('HINCRBY', throughputKey, string.format('%.0f', now - now % 60000) .. ':' .. outcome, n) end
end

-- The queue's epoch (see QueueKeys.epoch): read, or written when the queue has
-- none yet — the Redis server time in µs, so each generation of the queue's
-- data has its own. Clients compare it with the one they saw.
local function taskq_epoch(epochKey)
  local epoch = taskq_str(redis.call('GET', epochKey))
  if epoch then return epoch end
  local t = redis.call('TIME')
  epoch = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('SET', epochKey, epoch)
  return epoch
end

-- Ready tasks with a priority (see QueueKeys.prioritized): a task whose id
-- is in the priorities hash goes into the prioritized sorted set at its
-- level, the others into the ready list. `front`: where a task that was
-- taken back goes (before the others of its level; the consuming end of the
-- ready list), else behind them (the producing end). One EXISTS when no task
-- of the queue has a priority.
local TASKQ_LEVEL_SPAN = 1e13
local function taskq_ready(readyKey, prioKey, prioritiesKey, ids, front)
  if #ids == 0 then return end
  local levels = nil
  if redis.call('EXISTS', prioritiesKey) == 1 then levels = redis.call('HMGET', prioritiesKey, taskq_unpack(ids)) end
  local plain, scored = {}, {}
  local order = nil
  for n, id in ipairs(ids) do
    local level = levels and tonumber(taskq_str(levels[n]) or '')
    if level then
      local o = 0
      if not front then
        if not order then order = redis.call('HINCRBY', prioritiesKey, ' order', #ids) - #ids end
        order = order + 1
        o = order
      end
      scored[#scored + 1] = string.format('%.0f', (9 - level) * TASKQ_LEVEL_SPAN + o)
      scored[#scored + 1] = id
    else
      plain[#plain + 1] = id
    end
  end
  if #scored > 0 then redis.call('ZADD', prioKey, taskq_unpack(scored)) end
  if #plain > 0 then
    if front then redis.call('RPUSH', readyKey, taskq_unpack(plain)) else redis.call('LPUSH', readyKey, taskq_unpack(plain)) end
  end
end

-- Global limits (see QueueKeys.limits and Queue.setLimit). A queue without
-- any limit has no limits hash: a script that could do limit work asks one
-- EXISTS and does nothing more. Scopes: 0 is the queue, 1, 2, … the limited
-- types; a scope has its range of TASKQ_SCOPE_SPAN in limit-starts and parked.
local TASKQ_SCOPE_SPAN = 1e13
-- a priority level's range within a scope of the parked set
local TASKQ_PARK_LEVEL_SPAN = 1e12

local function taskq_fmt(n)
  return string.format('%.0f', n)
end

-- The type of a stored task, from its body '[' .. enqueuedAt .. ',"<type>",…';
-- nil for another form (an earlier version's object) or a type that needs JSON
-- escaping (a limit refuses such a type name, so such a task is never limited).
local function taskq_body_type(body)
  if type(body) ~= 'string' then return nil end
  return string.match(body, '^%[%d+,"([^"\\]*)"')
end

-- A rate limit as stored ('<max>/<intervalMs>'): max and interval as numbers (nil, nil if malformed).
local function taskq_rate_parse(value)
  local max, ms = string.match(value, '^(%d+)/(%d+)$')
  return tonumber(max), tonumber(ms)
end

-- The limits hash as a table: cap, rateMax, rateMs of the queue (nil: none),
-- types[t] = { name, scope, cap, rateMax, rateMs } for each limited type,
-- typed: whether there is one.
local function taskq_limits_load(limitsKey)
  local flat = redis.call('HGETALL', limitsKey)
  local lim = { types = {}, typed = false }
  local raw = {}
  for i = 1, #flat, 2 do
    local field, value = flat[i], flat[i + 1]
    if field == 'concurrency' then
      lim.cap = tonumber(value)
    elseif field == 'rate' then
      lim.rateMax, lim.rateMs = taskq_rate_parse(value)
    else
      local t, what = string.match(field, '^type:(.+):(%a+)$')
      if t then
        local e = raw[t]
        if not e then
          e = { name = t }
          raw[t] = e
        end
        if what == 'scope' then
          e.scope = tonumber(value)
        elseif what == 'concurrency' then
          e.cap = tonumber(value)
        elseif what == 'rate' then
          e.rateMax, e.rateMs = taskq_rate_parse(value)
        end
      end
    end
  end
  for t, e in pairs(raw) do
    if e.scope and (e.cap or e.rateMax) then
      lim.types[t] = e
      lim.typed = true
    end
  end
  return lim
end

-- Tasks in flight: the fence hash's fields but its encoding field.
local function taskq_inflight(fenceKey)
  return redis.call('HLEN', fenceKey) - redis.call('HEXISTS', fenceKey, 'fence hash encoding')
end

-- How many tasks of a scope are parked.
local function taskq_parked_count(parkedKey, scope)
  local base = scope * TASKQ_SCOPE_SPAN
  return redis.call('ZCOUNT', parkedKey, taskq_fmt(base), '(' .. taskq_fmt(base + TASKQ_SCOPE_SPAN))
end

-- Starts of a scope within its rate window (now - ms, now], after dropping
-- the older ones from the log.
local function taskq_window(startsKey, scope, ms, now)
  local base = scope * TASKQ_SCOPE_SPAN
  redis.call('ZREMRANGEBYSCORE', startsKey, taskq_fmt(base), taskq_fmt(base + now - ms))
  return redis.call('ZCOUNT', startsKey, taskq_fmt(base), '(' .. taskq_fmt(base + TASKQ_SCOPE_SPAN))
end

-- ms until a scope's window has room for one more start (0: it has now):
-- when the start that must age out, the (n - max + 1)-th oldest, is ms old.
local function taskq_window_reopen(startsKey, scope, max, ms, now)
  local n = taskq_window(startsKey, scope, ms, now)
  if n < max then return 0 end
  local base = scope * TASKQ_SCOPE_SPAN
  local at = redis.call('ZRANGEBYSCORE', startsKey, taskq_fmt(base), '(' .. taskq_fmt(base + TASKQ_SCOPE_SPAN), 'WITHSCORES', 'LIMIT', n - max, 1)
  if not at[2] then return 0 end
  return math.max(1, tonumber(at[2]) - base + ms - now)
end

-- Running tasks leave the slots of their type's concurrency limit: returns
-- type -> slots freed. Only tasks in the held hash took a slot (a task
-- fetched before its type had a limit took none).
local function taskq_limits_unhold(heldKey, activeKey, ids)
  local freed = {}
  if #ids == 0 or redis.call('EXISTS', heldKey) == 0 then return freed end
  local types = redis.call('HMGET', heldKey, taskq_unpack(ids))
  local gone = {}
  for i, id in ipairs(ids) do
    local t = taskq_str(types[i])
    if t then
      gone[#gone + 1] = id
      freed[t] = (freed[t] or 0) + 1
    end
  end
  if #gone == 0 then return freed end
  redis.call('HDEL', heldKey, taskq_unpack(gone))
  for t, n in pairs(freed) do
    if redis.call('HINCRBY', activeKey, t, -n) <= 0 then redis.call('HDEL', activeKey, t) end
  end
  return freed
end

-- Tasks left the processing lists (their fence entries are gone already):
-- frees the slots they held and returns how many waiting tasks (parked, or
-- ready behind the queue's concurrency limit) the freed slots let start now,
-- the count to announce on the wake channel. One EXISTS without limits.
local function taskq_limits_left(limitsKey, heldKey, activeKey, parkedKey, fenceKey, ids)
  if #ids == 0 or redis.call('EXISTS', limitsKey) == 0 then return 0 end
  local lim = taskq_limits_load(limitsKey)
  local wake = 0
  for t, n in pairs(taskq_limits_unhold(heldKey, activeKey, ids)) do
    local e = lim.types[t]
    if e and e.cap then
      local parked = taskq_parked_count(parkedKey, e.scope)
      if parked > 0 then
        local room = e.cap - tonumber(taskq_str(redis.call('HGET', activeKey, t)) or '0')
        wake = wake + math.max(0, math.min(n, parked, room))
      end
    end
  end
  if lim.cap then
    local inflight = taskq_inflight(fenceKey)
    -- the queue was full: a pool may be waiting for the slot
    if inflight + #ids >= lim.cap then wake = wake + math.max(0, math.min(#ids, lim.cap - inflight)) end
  end
  return wake
end

-- Parked tasks back to the ready structures, ahead of the others of their
-- priority, the first of `ids` (the oldest) at the consuming end.
local function taskq_unpark(parkedKey, readyKey, prioKey, prioritiesKey, ids)
  for from = 1, #ids, 1000 do
    local to = math.min(#ids, from + 999)
    local chunk = {}
    for i = from, to do chunk[#chunk + 1] = ids[i] end
    redis.call('ZREM', parkedKey, taskq_unpack(chunk))
  end
  -- pushed to the consuming end one after another: the last pushed runs first
  for to = #ids, 1, -1000 do
    local from = math.max(1, to - 999)
    local chunk = {}
    for i = to, from, -1 do chunk[#chunk + 1] = ids[i] end
    taskq_ready(readyKey, prioKey, prioritiesKey, chunk, true)
  end
end

-- Dead or rejected tasks back among the ready ones (requeue-dead,
-- requeue-failed): each id still stored starts over (its attempt count and
-- recoveries cleared, and a stale result, if any) and is recorded Queued
-- with `reason`; its failure history is kept. One wake message announces
-- them all. `k`: the script's KEYS, laid out as both scripts declare them (2
-- ready, 3 attempts, 4 status, 5 seq, 6 tasks, 7 recoveries, 8 prioritized,
-- 9 priorities, 10 results).
-- Returns the ids requeued.
local function taskq_requeue(k, ids, eventsChannel, wakeChannel, reason, now)
  local out = {}
  for _, id in ipairs(ids) do
    if redis.call('HEXISTS', k[6], id) == 1 then
      redis.call('HDEL', k[3], id) -- attempts start over: no count is 0
      redis.call('HDEL', k[7], id)
      redis.call('HDEL', k[10], id)
      taskq_ready(k[2], k[8], k[9], { id }, false)
      taskq_record(k[4], k[5], eventsChannel, id, 'Queued', 0, now, '', reason)
      out[#out + 1] = id
    end
  end
  taskq_flush()
  if #out > 0 then redis.call('PUBLISH', wakeChannel, #out) end
  return out
end

-- Tasks reached a final status (Done, Dead, Failed, Cancelled): those that
-- are flow steps (the flow-members hash names their flow and step) get a
-- notice in the queue's flow outbox, in this same script step, for a mover to
-- carry into their flow (see QueueKeys.flowOutbox). `known` is true when the
-- caller already saw the members hash exists (it skips the EXISTS). Returns
-- the number of notices and the set of the ids that got one (id -> true).
local function taskq_flow_notice(membersKey, outboxKey, ids, status, known)
  if #ids == 0 then return 0 end
  if not known and redis.call('EXISTS', membersKey) == 0 then return 0 end
  local refs = redis.call('HMGET', membersKey, taskq_unpack(ids))
  local notices, members = {}, {}
  for k, ref in ipairs(refs) do
    if type(ref) == 'string' then
      notices[#notices + 1] = status .. ' ' .. ids[k] .. ' ' .. ref
      members[ids[k]] = true
    end
  end
  if #notices > 0 then redis.call('LPUSH', outboxKey, taskq_unpack(notices)) end
  return #notices, members
end
