-- recover: return every task a consumer holds to the ready list and remove
-- the consumer from the registry. The janitor calls it for consumers whose
-- heartbeat is older than the stale limit (re-checked here, so a consumer
-- that beat again in the meantime is left alone); a consumer that shuts down
-- calls it for itself with a stale limit of -1 (unconditional).
-- Each task's fencing token is revoked, so the presumed-dead worker's late
-- ack or fail is refused. A task whose cancel was requested ends Cancelled
-- instead of running again. The interrupted run does not count as an
-- attempt (the counter goes back), but every recovery is counted: a task
-- whose workers died while running it ARGV[6] times is Dead (a task that
-- crashes its worker is not retried forever). Slots of concurrency limits
-- the tasks held are freed, whatever becomes of them.
-- KEYS[1] processing: processing list of the consumer
-- KEYS[2] ready: ready list
-- KEYS[3] consumers: consumers sorted set
-- KEYS[4] attempts: attempts hash
-- KEYS[5] status: status hash
-- KEYS[6] seq: seq counter
-- KEYS[7] fence: fence hash
-- KEYS[8] cancels: cancels hash
-- KEYS[9] cancelled: cancelled list (newest first; retention)
-- KEYS[10] recoveries: recoveries hash (id -> times recovered)
-- KEYS[11] dead: dead list
-- KEYS[12] tasks: tasks hash
-- KEYS[13] history: history hash
-- KEYS[14] prioritized: prioritized sorted set
-- KEYS[15] priorities: priorities hash
-- KEYS[16] limits: the queue's global limits (absent: none)
-- KEYS[17] limitHeld: id -> type of the running tasks that hold a slot of their type's limit
-- KEYS[18] limitActive: type -> slots held
-- KEYS[19] parked: tasks set aside while their type is at its limit
-- KEYS[20] progress: progress hash (the recovered tasks' goes)
-- KEYS[21] throughput: outcomes per minute (the tasks recorded Dead here add to the minute's failed count; one HINCRBY)
-- KEYS[22] results: results hash (a task dropped off the capped dead list loses its result, if any)
-- KEYS[23] flowMembers: flow-members hash (a flow step that ends here, Cancelled or Dead, gets a notice)
-- KEYS[24] flowOutbox: flow outbox (see QueueKeys.flowOutbox)
-- KEYS[25] waiters: consumers waiting for work (this one leaves it: no wake is sent to it any more)
-- KEYS[26] handOffWaiters: hand-off pools' entries (this one's go: no task is handed to it any more)
-- ARGV[1] events channel
-- ARGV[2] wake channel
-- ARGV[3] consumer id
-- ARGV[4] stale limit in ms (-1: recover regardless of heartbeat)
-- ARGV[5] reason recorded with each recovered task
-- ARGV[6] recoveries after which a task is Dead (0: a consumer's own orderly
--         unregister, which is not a crash and is not counted)
-- ARGV[7] dead-letter cap
-- Returns the number of tasks returned to the queue, or -1 if the consumer is alive.
local now = taskq_now()
local limit = tonumber(ARGV[4])
if limit >= 0 then
  local beat = redis.call('ZSCORE', KEYS[3], ARGV[3])
  if beat and tonumber(beat) > now - limit then return -1 end
end
redis.call('ZREM', KEYS[3], ARGV[3])
redis.call('LREM', KEYS[25], 0, ARGV[3])
redis.call('LREM', KEYS[26], 0, ARGV[3])
local n = 0
local dead = 0
local seen = {}
local left = {}
local ended = { Cancelled = {}, Dead = {} }
while true do
  -- newest first, each pushed to the consuming end: the oldest runs first
  local id = redis.call('LPOP', KEYS[1])
  if not id then break end
  -- an id twice in the list is handled once
  if not seen[id] then
    seen[id] = true
    left[#left + 1] = id
    local recoveries = 0
    if limit >= 0 then recoveries = redis.call('HINCRBY', KEYS[10], id, 1) end
    local cancelled = redis.call('HDEL', KEYS[8], id) == 1
    local isDead = not cancelled and limit >= 0 and recoveries >= tonumber(ARGV[6])
    -- a cancelled or dead task ends with its attempt counted; one put back does not count it
    local after = 'back'
    if cancelled or isDead then after = 'end' end
    local attempt = taskq_unfence(KEYS[7], KEYS[4], id, after)
    if cancelled then
      redis.call('LPUSH', KEYS[9], id)
      taskq_record(KEYS[5], KEYS[6], ARGV[1], id, 'Cancelled', attempt, now, '', 'cancelled; its worker stopped')
      ended.Cancelled[#ended.Cancelled + 1] = id
    elseif isDead then
      dead = dead + 1
      redis.call('LPUSH', KEYS[11], id)
      taskq_record(KEYS[5], KEYS[6], ARGV[1], id, 'Dead', attempt, now, '',
        'its worker died while running it ' .. string.format('%d', recoveries) .. ' times (' .. ARGV[5] .. ')')
      ended.Dead[#ended.Dead + 1] = id
    else
      taskq_ready(KEYS[2], KEYS[14], KEYS[15], { id }, true)
      taskq_record(KEYS[5], KEYS[6], ARGV[1], id, 'Queued', attempt, now, '', ARGV[5])
      n = n + 1
    end
  end
end
-- records first: the trim below may forget a task recorded above
taskq_flush()
taskq_flow_notice(KEYS[23], KEYS[24], ended.Cancelled, 'Cancelled')
taskq_flow_notice(KEYS[23], KEYS[24], ended.Dead, 'Dead')
taskq_throughput(KEYS[21], now, 'failed', dead)
-- the dead-letter list stays capped; what falls off it is forgotten
while redis.call('LLEN', KEYS[11]) > tonumber(ARGV[7]) do
  local old = redis.call('RPOP', KEYS[11])
  for _, k in ipairs({ KEYS[4], KEYS[5], KEYS[7], KEYS[8], KEYS[10], KEYS[12], KEYS[13], KEYS[22], KEYS[23] }) do redis.call('HDEL', k, old) end
end
taskq_progress_drop(KEYS[20], left)
local wake = n + taskq_limits_left(KEYS[16], KEYS[17], KEYS[18], KEYS[19], KEYS[7], left)
if wake > 0 then redis.call('PUBLISH', ARGV[2], wake) end
return n
