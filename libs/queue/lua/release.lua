-- release: give tasks back unfinished (graceful shutdown). Each task leaves
-- the consumer's processing list for the consuming end of the ready list, so
-- it runs next, and is recorded Queued with the reason. The attempt does not
-- count (the counter goes back), and the fencing token is revoked so the
-- aborted handler can no longer ack. Tasks the consumer no longer holds are
-- skipped. Slots of concurrency limits the tasks held are freed (the wake
-- message counts the tasks that can start now: those released, and parked
-- ones the freed slots let in).
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
-- KEYS[13] progress: progress hash (the released tasks' goes)
-- ARGV[1] events channel
-- ARGV[2] wake channel
-- ARGV[3] reason
-- ARGV[4] ... task ids
-- Returns the number of tasks released.
local now = taskq_now()
local n = 0
local released = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  if redis.call('LREM', KEYS[1], -1, id) > 0 then
    taskq_ready(KEYS[2], KEYS[7], KEYS[8], { id }, true)
    local attempt = taskq_unfence(KEYS[6], KEYS[3], id, 'back')
    taskq_record(KEYS[4], KEYS[5], ARGV[1], id, 'Queued', attempt, now, '', ARGV[3])
    n = n + 1
    released[n] = id
  end
end
taskq_flush()
taskq_progress_drop(KEYS[13], released)
local wake = n + taskq_limits_left(KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[6], released)
if wake > 0 then redis.call('PUBLISH', ARGV[2], wake) end
return n
