-- cancel: stop a task that has not finished.
--   Queued, Delayed, Retrying -> removed from the ready list or delayed set
--     (and the Retrying index), pushed onto the cancelled list, recorded Cancelled
--   Queued, handed off to a pool and not claimed yet (its handler may have
--     started) -> taken out of that pool's processing list and recorded
--     Cancelled at once; the pool is told on the control channel (its
--     handler is aborted) and its claim is refused (see fetch.lua)
--   InProgress -> cancel requested: marked in the cancels hash and announced
--     on the control channel; the worker holding it aborts its handler and
--     records Cancelled (see fail.lua); its heartbeat re-reports the request
--   final (Done, Failed, Dead, Cancelled) -> nothing changes
-- KEYS[1] ready: ready list
-- KEYS[2] delayed: delayed sorted set
-- KEYS[3] status: status hash
-- KEYS[4] seq: seq counter
-- KEYS[5] cancels: cancels hash
-- KEYS[6] cancelled: cancelled list (newest first; retention)
-- KEYS[7] attempts: attempts hash
-- KEYS[8] tasks: tasks hash
-- KEYS[9] prioritized: prioritized sorted set
-- KEYS[10] parked: ready tasks set aside while their type is at its limit (still Queued)
-- KEYS[11] retrying: the Retrying tasks of the delayed set (id -> due)
-- KEYS[12] flowMembers: flow-members hash (a cancelled flow step gets a notice)
-- KEYS[13] flowOutbox: flow outbox (see QueueKeys.flowOutbox)
-- KEYS[14] fence: fence hash (a Queued task fenced 'h:<ms> <consumer>' was handed off to that pool, see enqueue.lua)
-- ARGV[1] events channel
-- ARGV[2] control channel
-- ARGV[3] task id
-- ARGV[4] reason
-- ARGV[5] for a flow's step, the encoded task tail (see enqueue.lua) or '':
--   a task not found is then written Cancelled with this body and ARGV[6]
--   as its flow reference, so that the enqueue of the step that may still
--   come finds it and does nothing (see flow/note.lua)
-- ARGV[6] the flow reference ('<flow id> <step>') with ARGV[5]
-- Returns { outcome, status }: outcome is 'cancelled', 'requested', 'final'
-- or 'not-found'; status is the status now recorded ('' if none).
local id = ARGV[3]
local status = taskq_status(KEYS[3], KEYS[8], id)
local now = taskq_now()
if not status and (ARGV[5] or '') ~= '' then
  redis.call('HSET', KEYS[8], id, '[' .. string.format('%.0f', now) .. ',' .. ARGV[5])
  redis.call('HSET', KEYS[12], id, ARGV[6])
  redis.call('LPUSH', KEYS[6], id)
  taskq_record(KEYS[3], KEYS[4], ARGV[1], id, 'Cancelled', 0, now, '', ARGV[4])
  taskq_flush()
  taskq_flow_notice(KEYS[12], KEYS[13], { id }, 'Cancelled', true)
  return taskq_reply({ 'cancelled', 'Cancelled' })
end
if not status then return taskq_reply({ 'not-found', '' }) end
local attempt = tonumber(redis.call('HGET', KEYS[7], id) or '0')
local removed = 0
if status == 'Queued' then
  removed = redis.call('LREM', KEYS[1], 1, id)
  if removed == 0 then removed = redis.call('ZREM', KEYS[9], id) end
  if removed == 0 then removed = redis.call('ZREM', KEYS[10], id) end
  -- handed off to a pool, not claimed yet (see enqueue.lua): out of that
  -- consumer's processing list, its fence gone (the claim is refused), and the
  -- pool told on the control channel (a handler that started is aborted)
  local _, holder
  if removed == 0 then _, holder = taskq_handed(redis.call('HGET', KEYS[14], id)) end
  if holder then
    removed = redis.call('LREM', taskq_processing_key(KEYS[1], holder), -1, id)
    redis.call('HDEL', KEYS[14], id)
    if removed > 0 then redis.call('PUBLISH', ARGV[2], id) end
  end
elseif status == 'Delayed' or status == 'Retrying' then
  removed = redis.call('ZREM', KEYS[2], id)
  -- out of the index too (a Delayed task is not in it: a no-op)
  redis.call('ZREM', KEYS[11], id)
elseif status == 'InProgress' then
  redis.call('HSET', KEYS[5], id, string.format('%.0f', now))
  redis.call('PUBLISH', ARGV[2], id)
  return taskq_reply({ 'requested', status })
else
  return taskq_reply({ 'final', status })
end
if removed == 0 then return taskq_reply({ 'final', status }) end
redis.call('LPUSH', KEYS[6], id)
-- its count is in its Cancelled record only (see taskq_unfence's 'end')
redis.call('HDEL', KEYS[7], id)
taskq_record(KEYS[3], KEYS[4], ARGV[1], id, 'Cancelled', attempt, now, '', ARGV[4])
taskq_flush()
taskq_flow_notice(KEYS[12], KEYS[13], { id }, 'Cancelled')
return taskq_reply({ 'cancelled', 'Cancelled' })
