-- Shared prelude of every queue script: writes a task's status record and
-- publishes it, inside the script that performs the transition, so the
-- recorded status can never disagree with where the task is.
--
-- taskq_record(statusKey, seqKey, channel, id, status, attempt, now, worker, reason, runAt)
--   statusKey  hash task id -> status record (JSON)
--   seqKey     per-queue counter; every record carries the next value
--   channel    pub/sub channel the record is published on
--   worker     optional (empty string = none); reason optional likewise
--   runAt      optional: when a Delayed/Retrying task is due (ms)
-- Returns the record string and its seq (the seq of an InProgress record
-- starts the fetch's fencing token).
-- Records are buffered: taskq_flush() writes them with one HSET and publishes
-- them as ONE message, a JSON array of the records in seq order. Every script
-- that records calls taskq_flush() before it returns (a script is atomic, so
-- nobody sees the records before it ends either way); a script that deletes
-- status records of other tasks flushes first.
--
-- taskq_emit(statusKey, ...): like taskq_record; statusKey nil = published
--   only, not stored (enqueue: the task's body stands for its record); it
--   also returns the seq's text (an InProgress record's seq starts the
--   fencing token the fetch hands out). taskq_int(n): an integer's text.
-- taskq_emit_plain(statusKey, seqKey, channel, id, status, attemptText, now, worker, withToken):
--   taskq_emit's hot path, for an id and worker name known to need no
--   escaping, without reason or runAt; the attempt comes as its text. With
--   withToken it also returns the fencing token '<seq>:<attemptText>'.
-- taskq_status(statusKey, tasksKey, id): the status name of a task, or nil.
-- taskq_reserve(seqKey, n): see below; batch scripts reserve their seq numbers at once.
--
-- JSON is built by hand: Redis ships cjson, but the in-memory Redis used by
-- the demo and unit tests (ioredis-mock) does not.

local function taskq_escape(c)
  if c == '"' then return '\\"' end
  if c == '\\' then return '\\\\' end
  if c == '\n' then return '\\n' end
  if c == '\r' then return '\\r' end
  if c == '\t' then return '\\t' end
  return string.format('\\u%04x', string.byte(c))
end

local function taskq_jstr(s)
  s = tostring(s)
  -- the common case (ids, worker names) needs no escaping: skip gsub
  if not string.find(s, '[%c"\\]') then return '"' .. s .. '"' end
  return '"' .. string.gsub(s, '[%c"\\]', taskq_escape) .. '"'
end

-- Redis server time in ms, as a float: Lua integers are 32-bit in the
-- in-memory Redis (fengari), and a double holds ms timestamps exactly.
local function taskq_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000.0 + math.floor(tonumber(t[2]) / 1000)
end

-- Sequence numbers reserved for the records this script will write:
-- taskq_reserve(seqKey, n) takes n numbers with one INCRBY; taskq_record then
-- uses them before falling back to one INCR each. Reserve exactly as many as
-- the script records: a reserved number left unused looks like a lost event
-- to a monitor (a gap in seq), which then re-reads the statuses it follows.
local taskq_seq_next, taskq_seq_last = 1, 0

local function taskq_reserve(seqKey, n)
  if n <= 0 then return end
  local last = redis.call('INCRBY', seqKey, n)
  taskq_seq_next, taskq_seq_last = last - n + 1, last
end

-- Per-script caches: every record of one script shares its time, and a
-- batch's records mostly share their worker; formatting them once is cheaper.
local taskq_now_for, taskq_at_text = nil, ''
local taskq_worker_for, taskq_worker_text = nil, ''
local taskq_format, taskq_find, taskq_sub = string.format, string.find, string.sub
local taskq_small = { [0] = '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' }

-- Integer text; the small numbers (attempts) without string.format.
local function taskq_int(n)
  return taskq_small[n] or taskq_format('%d', n)
end

-- taskq_emit_plain's text of seq // 10, formatted once per ten records (the
-- records of a script take consecutive seqs; see there).
local taskq_tens_of, taskq_tens_text = -1, ''

-- Records written since the last flush: HSET arguments (id, record, ...) and
-- the records to publish, with their counts. One status hash and one channel per script.
local taskq_unpack = table.unpack or unpack
local taskq_pending_hset, taskq_pending_pub = {}, {}
local taskq_nhset, taskq_npub = 0, 0
local taskq_pending_key, taskq_pending_channel = nil, nil

local function taskq_flush()
  if taskq_nhset > 0 then redis.call('HSET', taskq_pending_key, taskq_unpack(taskq_pending_hset, 1, taskq_nhset)) end
  if taskq_npub > 0 then
    -- One JSON array, the brackets joined to its first and last records:
    -- wrapping the joined records instead would copy the whole message once
    -- more, and every byte a script allocates costs Lua's collector work too.
    local pub, n = taskq_pending_pub, taskq_npub
    pub[1] = '[' .. pub[1]
    pub[n] = pub[n] .. ']'
    redis.call('PUBLISH', taskq_pending_channel, table.concat(pub, ',', 1, n))
  end
  taskq_pending_hset, taskq_pending_pub, taskq_nhset, taskq_npub = {}, {}, 0, 0
end

-- Builds a record, publishes it (at the next flush) and, when statusKey is
-- given, stores it too. Returns the record, its seq and the seq's text.
local function taskq_emit(statusKey, seqKey, channel, id, status, attempt, now, worker, reason, runAt)
  local seq
  if taskq_seq_next <= taskq_seq_last then
    seq = taskq_seq_next
    taskq_seq_next = seq + 1
  else
    seq = redis.call('INCR', seqKey)
  end
  if now ~= taskq_now_for then taskq_now_for, taskq_at_text = now, ',"at":' .. taskq_format('%.0f', now) .. ',"seq":' end
  local tail = '}'
  if worker ~= nil and worker ~= '' then
    if worker ~= taskq_worker_for then taskq_worker_for, taskq_worker_text = worker, ',"worker":' .. taskq_jstr(worker) .. '}' end
    tail = taskq_worker_text
  end
  if (reason ~= nil and reason ~= '') or runAt ~= nil then
    local extra = ''
    if reason ~= nil and reason ~= '' then extra = ',"reason":' .. taskq_jstr(reason) end
    if runAt ~= nil then extra = extra .. ',"runAt":' .. taskq_format('%.0f', runAt) end
    tail = taskq_sub(tail, 1, -2) .. extra .. '}'
  end
  -- the common id needs no escaping; then one concatenation makes the whole record
  local idText = id
  if taskq_find(id, '[%c"\\]') then idText = taskq_sub(taskq_jstr(id), 2, -2) end
  local seqText = taskq_format('%d', seq)
  local rec = '{"id":"' .. idText .. '","status":"' .. status .. '","attempt":' .. taskq_int(attempt) .. taskq_at_text .. seqText .. tail
  if statusKey ~= nil then
    taskq_pending_hset[taskq_nhset + 1] = id
    taskq_pending_hset[taskq_nhset + 2] = rec
    taskq_nhset = taskq_nhset + 2
    taskq_pending_key = statusKey
  end
  taskq_npub = taskq_npub + 1
  taskq_pending_pub[taskq_npub] = rec
  taskq_pending_channel = channel
  if taskq_npub >= 1000 then taskq_flush() end
  return rec, seq, seqText
end

-- taskq_emit for the hot paths (enqueue, fetch, ack): a record with no
-- reason or runAt, whose id and worker name (if any) need no JSON escaping,
-- so nothing is scanned for it (task ids are checked when enqueued; the
-- caller vouches for the worker names). statusKey nil: published only.
-- Same record, byte for byte, as taskq_emit's; returns the record, its seq
-- and, when withToken, the fencing token '<seq>:<attemptText>'.
local function taskq_emit_plain(statusKey, seqKey, channel, id, status, attemptText, now, worker, withToken)
  local seq = taskq_seq_next
  if seq <= taskq_seq_last then
    taskq_seq_next = seq + 1
  else
    seq = redis.call('INCR', seqKey)
  end
  if now ~= taskq_now_for then taskq_now_for, taskq_at_text = now, ',"at":' .. taskq_format('%.0f', now) .. ',"seq":' end
  -- The seq's text in two parts, the text of seq // 10 and the last digit,
  -- which go straight into the record (and token): no string.format per
  -- record, and no seq string of its own (every string Lua makes costs its
  -- hashing). Same text as taskq_emit's '%d'.
  local tens, last
  if seq >= 0 then
    local digit = seq % 10
    tens = (seq - digit) / 10
    if tens ~= taskq_tens_of then
      taskq_tens_of = tens
      if tens == 0 then taskq_tens_text = '' else taskq_tens_text = taskq_format('%d', tens) end
    end
    tens, last = taskq_tens_text, taskq_small[digit]
  else
    tens, last = taskq_format('%d', seq), '' -- a counter set below zero by hand
  end
  local rec
  if worker ~= nil and worker ~= '' then
    rec = '{"id":"' .. id .. '","status":"' .. status .. '","attempt":' .. attemptText .. taskq_at_text .. tens .. last .. ',"worker":"' .. worker .. '"}'
  else
    rec = '{"id":"' .. id .. '","status":"' .. status .. '","attempt":' .. attemptText .. taskq_at_text .. tens .. last .. '}'
  end
  if statusKey ~= nil then
    local h = taskq_nhset
    taskq_pending_hset[h + 1] = id
    taskq_pending_hset[h + 2] = rec
    taskq_nhset = h + 2
    taskq_pending_key = statusKey
  end
  local p = taskq_npub + 1
  taskq_pending_pub[p] = rec
  taskq_npub = p
  taskq_pending_channel = channel
  if p >= 1000 then taskq_flush() end
  if withToken then return rec, seq, tens .. last .. ':' .. attemptText end
  return rec, seq
end

-- Publishes a record and stores it (both at the next flush).
local function taskq_record(statusKey, seqKey, channel, id, status, attempt, now, worker, reason, runAt)
  return taskq_emit(statusKey, seqKey, channel, id, status, attempt, now, worker, reason, runAt)
end

-- A reply element as a string, or nil: a missing HMGET field is false in
-- Redis and a (truthy) null userdata in the in-memory Redis.
local function taskq_str(v)
  if type(v) == 'string' then return v end
  return nil
end

local function taskq_status(statusKey, tasksKey, id)
  local rec = redis.call('HGET', statusKey, id)
  if not rec then
    -- no record: an enqueued task (its body stands for its Queued record), or unknown
    if redis.call('HEXISTS', tasksKey, id) == 1 then return 'Queued' end
    return nil
  end
  return string.match(rec, '"status":"(%a+)"')
end

-- Returns a Lua array as a script reply. The in-memory Redis converts only
-- tables built by a constructor, so copy into one; real Redis is indifferent.
local function taskq_reply(list)
  return { taskq_unpack(list) }
end
