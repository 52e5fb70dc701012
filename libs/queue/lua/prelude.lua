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
local function taskq_unfence(fenceKey, attemptsKey, id, after)
  local token = taskq_str(redis.call('HGET', fenceKey, id))
  redis.call('HDEL', fenceKey, id)
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
