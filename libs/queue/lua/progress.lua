-- progress: running tasks' progress, as their handlers reported it (one call
-- per flush of a worker's progress batcher, for every task with news). Each
-- update is stored only while the fetch that sent it still holds the task
-- (same fencing token): a worker whose task was taken back, or that ended,
-- writes nothing. Stored in the progress hash (the task's latest only; every
-- script that takes a task out of its processing list removes it) and
-- published on the events channel as ONE message for the call, a JSON object
-- that status messages (arrays) and queue events (another "event") are not:
--   {"event":"progress","at":<ms>,"tasks":[{"id":"t1","pct":40,"done":4,"total":10,"msg":"…","at":<ms>},…]}
-- No seq: progress is not a transition (monitors see no gap).
-- KEYS[1] fence: fence hash (id -> token)
-- KEYS[2] progress: progress hash (id -> latest progress, JSON)
-- ARGV[1] events channel
-- ARGV[2 ..] triples: task id, fencing token, the progress as a JSON object
--   without "at", beginning with "pct" (the caller encodes and checks it)
-- Returns one flag per triple: 1 stored and published, 0 refused (the
-- fetch no longer holds the task).
local n = math.floor((#ARGV - 1) / 3)
if n < 1 then return taskq_reply({}) end
local ids = {}
for i = 1, n do ids[i] = ARGV[3 * i - 1] end
local tokens = redis.call('HMGET', KEYS[1], taskq_unpack(ids))
local at = string.format('%.0f', taskq_now())
local out, fields, items = {}, {}, {}
for i = 1, n do
  local token, body = ARGV[3 * i], ARGV[3 * i + 1]
  -- a missing token is false (Redis) or a null userdata (the in-memory Redis): equal to no string
  if tokens[i] == token and string.sub(body, 1, 7) == '{"pct":' and string.sub(body, -1) == '}' then
    local stored = string.sub(body, 1, -2) .. ',"at":' .. at .. '}'
    fields[#fields + 1] = ids[i]
    fields[#fields + 1] = stored
    items[#items + 1] = '{"id":' .. taskq_jstr(ids[i]) .. ',' .. string.sub(stored, 2)
    out[i] = 1
  else
    out[i] = 0
  end
end
if #items > 0 then
  redis.call('HSET', KEYS[2], taskq_unpack(fields))
  redis.call('PUBLISH', ARGV[1], '{"event":"progress","at":' .. at .. ',"tasks":[' .. table.concat(items, ',') .. ']}')
end
return taskq_reply(out)
