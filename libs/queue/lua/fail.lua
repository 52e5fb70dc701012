-- fail: an attempt did not succeed. Depending on the mode (ARGV[6]):
--   retry   -> delayed set for ARGV[8] ms, and its Retrying index, recorded
--              Retrying (reason, runAt)
--   dead    -> dead-letter list, recorded Dead (its last attempt failed)
--   reject  -> rejected list, recorded Failed (the task cannot run at all)
--   cancel  -> cancelled list, recorded Cancelled (its handler was aborted by a cancel)
-- A cancel requested while the task ran wins over retry and dead: the task
-- ends Cancelled and is not retried. The attempt's entry is appended to the
-- task's history. Refused (returns 0, nothing written) unless this consumer
-- holds the task under the same fencing token. The capped lists drop their
-- oldest task, whose data goes with it. A task that held a slot of a
-- concurrency limit frees it; when tasks wait for that slot, the wake channel
-- announces how many can start.
-- KEYS[1] processing: processing list of this consumer
-- KEYS[2] attempts: attempts hash
-- KEYS[3] status: status hash
-- KEYS[4] seq: seq counter
-- KEYS[5] fence: fence hash
-- KEYS[6] cancels: cancels hash
-- KEYS[7] delayed: delayed sorted set
-- KEYS[8] dead: dead list
-- KEYS[9] rejected: rejected list
-- KEYS[10] cancelled: cancelled list (newest first; retention)
-- KEYS[11] history: history hash
-- KEYS[12] tasks: tasks hash
-- KEYS[13] recoveries: recoveries hash
-- KEYS[14] priorities: priorities hash
-- KEYS[15] limits: the queue's global limits (absent: none)
-- KEYS[16] limitHeld: id -> type of the running tasks that hold a slot of their type's limit
-- KEYS[17] limitActive: type -> slots held
-- KEYS[18] parked: tasks set aside while their type is at its limit
-- KEYS[19] progress: progress hash (the task's goes: its run is over)
-- KEYS[20] retrying: the Retrying tasks of the delayed set (id -> due)
-- KEYS[21] throughput: outcomes per minute (a retry, dead or reject adds 1 to the minute's failed count; a cancel nothing)
-- KEYS[22] results: results hash (a task dropped off a capped list loses its result, if any)
-- KEYS[23] flowMembers: flow-members hash (a flow step that ends here gets a notice)
-- KEYS[24] flowOutbox: flow outbox (see QueueKeys.flowOutbox)
-- ARGV[1] events channel
-- ARGV[2] wake channel
-- ARGV[3] task id
-- ARGV[4] worker name
-- ARGV[5] fencing token of the fetch
-- ARGV[6] mode: retry | dead | reject | cancel
-- ARGV[7] reason
-- ARGV[8] delay before the retry, ms (Redis server clock; ignored by other modes)
-- ARGV[9] history entry (a JSON object) or ''
-- ARGV[10] dead-letter cap
-- ARGV[11] rejected cap
-- Returns the status recorded, or 0 if refused.
local id = ARGV[3]
if redis.call('HGET', KEYS[5], id) ~= ARGV[5] then return 0 end
if redis.call('LREM', KEYS[1], -1, id) == 0 then return 0 end
local now = taskq_now()
local mode = ARGV[6]
if redis.call('HDEL', KEYS[6], id) == 1 then mode = 'cancel' end
-- the attempt this fetch started counts: the task runs again or ends here
local after = 'end'
if mode == 'retry' then after = 'retry' end
local attempt = taskq_unfence(KEYS[5], KEYS[2], id, after)
redis.call('HDEL', KEYS[19], id)
local wake = taskq_limits_left(KEYS[15], KEYS[16], KEYS[17], KEYS[18], KEYS[5], { id })
local function announce()
  if wake > 0 then redis.call('PUBLISH', ARGV[2], wake) end
end

if ARGV[9] ~= '' then
  local old = redis.call('HGET', KEYS[11], id)
  if old then
    redis.call('HSET', KEYS[11], id, string.sub(old, 1, -2) .. ',' .. ARGV[9] .. ']')
  else
    redis.call('HSET', KEYS[11], id, '[' .. ARGV[9] .. ']')
  end
end

local function drop(id2)
  for _, k in ipairs({ KEYS[2], KEYS[3], KEYS[5], KEYS[6], KEYS[11], KEYS[12], KEYS[13], KEYS[14], KEYS[22], KEYS[23] }) do
    redis.call('HDEL', k, id2)
  end
end

if mode == 'retry' then
  local due = now + tonumber(ARGV[8])
  redis.call('ZADD', KEYS[7], due, id)
  redis.call('ZADD', KEYS[20], due, id)
  taskq_record(KEYS[3], KEYS[4], ARGV[1], id, 'Retrying', attempt, now, ARGV[4], ARGV[7], due)
  taskq_throughput(KEYS[21], now, 'failed', 1)
  taskq_flush()
  -- idle workers re-arm their timer for the new earliest due time (and take a freed slot)
  redis.call('PUBLISH', ARGV[2], wake)
  return 'Retrying'
elseif mode == 'dead' then
  redis.call('LPUSH', KEYS[8], id)
  while redis.call('LLEN', KEYS[8]) > tonumber(ARGV[10]) do drop(redis.call('RPOP', KEYS[8])) end
  taskq_record(KEYS[3], KEYS[4], ARGV[1], id, 'Dead', attempt, now, ARGV[4], ARGV[7])
  taskq_flow_notice(KEYS[23], KEYS[24], { id }, 'Dead')
  taskq_throughput(KEYS[21], now, 'failed', 1)
  taskq_flush()
  announce()
  return 'Dead'
elseif mode == 'reject' then
  redis.call('LPUSH', KEYS[9], id)
  while redis.call('LLEN', KEYS[9]) > tonumber(ARGV[11]) do drop(redis.call('RPOP', KEYS[9])) end
  taskq_record(KEYS[3], KEYS[4], ARGV[1], id, 'Failed', attempt, now, ARGV[4], ARGV[7])
  taskq_flow_notice(KEYS[23], KEYS[24], { id }, 'Failed')
  taskq_throughput(KEYS[21], now, 'failed', 1)
  taskq_flush()
  announce()
  return 'Failed'
end
redis.call('LPUSH', KEYS[10], id)
local reason = ARGV[7]
if reason == '' then reason = 'cancelled while running' end
taskq_record(KEYS[3], KEYS[4], ARGV[1], id, 'Cancelled', attempt, now, ARGV[4], reason)
taskq_flow_notice(KEYS[23], KEYS[24], { id }, 'Cancelled')
taskq_flush()
announce()
return 'Cancelled'
