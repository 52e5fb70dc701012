-- release: give tasks back unfinished (graceful shutdown). Each task leaves
-- the consumer's processing list for the consuming end of the ready list, so
-- it runs next, and is recorded Queued with the reason. The attempt does not
-- count (the counter goes back), and the fencing token is revoked so the
-- aborted handler can no longer ack. Tasks the consumer no longer holds are
-- skipped.
-- KEYS[1] processing: processing list of this consumer
-- KEYS[2] ready: ready list
-- KEYS[3] attempts: attempts hash
-- KEYS[4] status: status hash
-- KEYS[5] seq: seq counter
-- KEYS[6] fence: fence hash
-- KEYS[7] prioritized: prioritized sorted set
-- KEYS[8] priorities: priorities hash
-- ARGV[1] events channel
-- ARGV[2] wake channel
-- ARGV[3] reason
-- ARGV[4] ... task ids
-- Returns the number of tasks released.
local now = taskq_now()
local n = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  if redis.call('LREM', KEYS[1], -1, id) > 0 then
    taskq_ready(KEYS[2], KEYS[7], KEYS[8], { id }, true)
    local attempt = taskq_unfence(KEYS[6], KEYS[3], id, 'back')
    taskq_record(KEYS[4], KEYS[5], ARGV[1], id, 'Queued', attempt, now, '', ARGV[3])
    n = n + 1
  end
end
taskq_flush()
if n > 0 then redis.call('PUBLISH', ARGV[2], n) end
return n
