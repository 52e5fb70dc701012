-- reconcile: return to the queue the tasks in a consumer's processing list
-- that its pool is not running. That happens when a fetch ran in Redis but
-- its reply never reached the worker (the connection dropped, or the client
-- re-sent the command after a reconnect): without this the tasks would sit
-- there, held by a consumer that is alive and heart-beating, until it stops.
-- The pool calls it between fetches, when no fetch of its own is in flight.
-- The lost attempt does not count. Slots of concurrency limits the tasks
-- held are freed, as in release.
-- KEYS[1] processing: processing list of this consumer
-- KEYS[2] ready: ready list
-- KEYS[3] attempts: attempts hash
-- KEYS[4] status: status hash
-- KEYS[5] seq: seq counter
-- KEYS[6] fence: fence hash
-- KEYS[7] prioritized: prioritized sorted set
-- KEYS[8] priorities: priorities hash
-- KEYS[9] limits: the queue's global limits (absent: none)
-- KEYS[10] limitHeld: id -> type of the running tasks that hold a slot of their type's limit
-- KEYS[11] limitActive: type -> slots held
-- KEYS[12] parked: tasks set aside while their type is at its limit
-- KEYS[13] progress: progress hash (the returned tasks' goes)
-- ARGV[1] events channel
-- ARGV[2] wake channel
-- ARGV[3] reason
-- ARGV[4] the number S of settled hand-offs, or 'g<ms>' (none named: the grace rule below, with that grace)
-- ARGV[5 .. 4+S] settled hand-offs: tasks handed off to the consumer whose wake
--   messages the pool has certainly received (it listed them, then waited for
--   a reply on its subscriber connection, which comes after every message sent
--   to it before: see Consumer.reconcile)
-- ARGV[5+S ..] ids the pool is running (kept)
-- A task handed off to the consumer (fenced 'h:<ms> <consumer>', see
-- enqueue.lua) that the pool is not running is returned only when it is a
-- settled one: its message came and the pool did not start it (lost). Any
-- other is kept: its wake message may still be on its way. Without a settled
-- list ('g<ms>'), one handed off less than <ms> ago is kept, an older one is
-- returned.
-- Returns the ids returned to the queue.
local settledCount = tonumber(ARGV[4]) or -1
local graceMs = settledCount < 0 and tonumber(string.sub(ARGV[4], 2)) or 2000
local firstRunning = 5 + math.max(0, settledCount)
local held, settled = {}, {}
for i = 5, firstRunning - 1 do settled[ARGV[i]] = true end
for i = firstRunning, #ARGV do held[ARGV[i]] = true end
local now = taskq_now()
local out = {}
-- a hand-off whose message may still be on its way to the pool
local function handedInFlight(id)
  local at = taskq_handed(redis.call('HGET', KEYS[6], id))
  if at == nil then return false end
  if settledCount >= 0 then return not settled[id] end
  return now - at < graceMs
end
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if not held[id] and handedInFlight(id) then held[id] = true end
  -- (an id twice in the list is returned once: the LREM takes both copies)
  if not held[id] and redis.call('LREM', KEYS[1], 0, id) > 0 then
    taskq_ready(KEYS[2], KEYS[7], KEYS[8], { id }, true)
    local attempt = taskq_unfence(KEYS[6], KEYS[3], id, 'back')
    taskq_record(KEYS[4], KEYS[5], ARGV[1], id, 'Queued', attempt, now, '', ARGV[3])
    out[#out + 1] = id
  end
end
taskq_flush()
taskq_progress_drop(KEYS[13], out)
local wake = #out + taskq_limits_left(KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[6], out)
if wake > 0 then redis.call('PUBLISH', ARGV[2], wake) end
return taskq_reply(out)
