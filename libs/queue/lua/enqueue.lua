-- enqueue: add tasks; each is recorded Queued (ready list) or, with a due
-- time in the future, Delayed (delayed set). The whole batch is read and
-- written with one command per structure (HMGET, HSET, LPUSH), not one per task.
-- KEYS[1] ready list
-- KEYS[2] tasks hash (id -> encoded task)
-- KEYS[3] status hash
-- KEYS[4] seq counter
-- KEYS[5] delayed sorted set (id -> due time)
-- ARGV[1] events channel
-- ARGV[2] wake channel
-- ARGV[3], ARGV[4], ARGV[5] ... triples (task id, encoded task, due): due is
--   '0' (now), an absolute time in ms, or '+<ms>': that long from now on the
--   Redis server's clock (delayMs; producers' clocks may be off)
-- A task id that already has a status record is skipped: enqueue is
-- idempotent per id, the existing task stays as it is.
-- Returns one flag per task: 1 enqueued, 0 already there.
local now = taskq_now()
local ids = {}
for i = 3, #ARGV, 3 do ids[#ids + 1] = ARGV[i] end
local out = {}
if #ids == 0 then return taskq_reply(out) end
local recorded = redis.call('HMGET', KEYS[3], taskq_unpack(ids))
local seen = {}
local n = 0
for k, id in ipairs(ids) do
  -- already recorded, or earlier in this same call: the first one stands
  if seen[id] or taskq_str(recorded[k]) then
    out[k] = 0
  else
    seen[id] = true
    out[k] = 1
    n = n + 1
  end
end
taskq_reserve(KEYS[4], n)
local bodies, ready = {}, {}
for k, id in ipairs(ids) do
  if out[k] == 1 then
    local i = 3 * k
    bodies[#bodies + 1] = id
    bodies[#bodies + 1] = ARGV[i + 1]
    local spec = ARGV[i + 2]
    local due
    if spec == '0' then
      due = 0
    elseif string.sub(spec, 1, 1) == '+' then
      due = now + tonumber(string.sub(spec, 2))
    else
      due = tonumber(spec)
    end
    if due > now then
      redis.call('ZADD', KEYS[5], due, id)
      taskq_record(KEYS[3], KEYS[4], ARGV[1], id, 'Delayed', 0, now, '', '', due)
    else
      ready[#ready + 1] = id
      taskq_record(KEYS[3], KEYS[4], ARGV[1], id, 'Queued', 0, now, '', '')
    end
  end
end
if #bodies > 0 then redis.call('HSET', KEYS[2], taskq_unpack(bodies)) end
if #ready > 0 then redis.call('LPUSH', KEYS[1], taskq_unpack(ready)) end
taskq_flush()
-- idle workers fetch (ready tasks) or re-arm their timer (a new earliest due time)
if n > 0 then redis.call('PUBLISH', ARGV[2], 1) end
return taskq_reply(out)
