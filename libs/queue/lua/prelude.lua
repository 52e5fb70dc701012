-- Queue prelude, after the record prelude, before every queue script:
-- attempt counts of held tasks.
--
-- A fetch hands a task out with a fencing token '<seq>:<attempt>' (fence
-- hash: id -> token) and moves the task's attempt count into it: while a
-- task is held, its count is in its token, not in the attempts hash. When it
-- is done, the count lives on in its Done record; when it is to run again
-- (retry, release, recovery) or has failed for good, it goes back to the
-- attempts hash.

-- The attempt in a token, or nil (a token of an earlier version, '<seq>').
local function taskq_token_attempt(token)
  local colon = string.find(token, ':', 1, true)
  if colon then return tonumber(string.sub(token, colon + 1)) end
  return nil
end

-- A held task's attempt; its fencing token is revoked. Without a token that
-- carries it, the attempts hash's count (an earlier version kept it there).
local function taskq_unfence(fenceKey, attemptsKey, id)
  local token = taskq_str(redis.call('HGET', fenceKey, id))
  redis.call('HDEL', fenceKey, id)
  local attempt = token and taskq_token_attempt(token)
  if attempt then return attempt end
  return tonumber(taskq_str(redis.call('HGET', attemptsKey, id)) or '0')
end

-- Keeps a task's count of attempts made (0: none to keep).
local function taskq_set_attempts(attemptsKey, id, n)
  if n > 0 then
    redis.call('HSET', attemptsKey, id, taskq_int(n))
  else
    redis.call('HDEL', attemptsKey, id)
  end
end
