-- Flow prelude, after the record prelude, before every flow script.
-- A flow's state is one hash, KEYS[1] (`<prefix>:flow:{<flow id>}`: its own
-- hash tag, one Cluster slot), with these fields:
--   id, policy ('failFast' | 'continue'), createdAt, retention (ms it is kept
--   after it ended), total, names (JSON array of its step names, in order)
--   state: FlowRunning | FlowFailing | FlowCancelling (not ended: a failure
--     or a cancel is being carried out, steps still running are being
--     cancelled) | FlowDone | FlowFailed | FlowCancelled (ended)
--   done, failed, cancelled: steps that ended Done; Dead or Failed; Cancelled
--   seq: the number of the flow's last event; at: its time; endedAt; reason
--   per step <s>: q:<s> its queue, t:<s> its task id, in:<s> its task input
--     (JSON), deps:<s> and next:<s> (JSON arrays of step names: what it
--     waits for, what waits for it), left:<s> (deps not ended yet), st:<s>
--     (Waiting, Released: enqueued or being enqueued, then as its task
--     ended: Done, Dead, Failed, Cancelled), r:<s> its result (JSON text),
--     e:<s> why it did not end Done
local F = KEYS[1]
local flow_final = { Done = true, Dead = true, Failed = true, Cancelled = true }
local flow_ended = { FlowDone = true, FlowFailed = true, FlowCancelled = true }

local function flow_json_list(field)
  local v = redis.call('HGET', F, field)
  if not v then return {} end
  return cjson.decode(v)
end

-- Publishes the flow's state as an event (and stamps seq/at in the hash):
-- {"flow","status","done","failed","cancelled","total","seq","at"} and, for
-- a step's end, "step", "stepStatus" and "taskId".
local function flow_event(channel, now, step, stepStatus)
  local seq = redis.call('HINCRBY', F, 'seq', 1)
  local nowText = string.format('%.0f', now)
  redis.call('HSET', F, 'at', nowText)
  local h = redis.call('HMGET', F, 'id', 'state', 'done', 'failed', 'cancelled', 'total')
  local msg = '{"flow":' .. cjson.encode(h[1]) .. ',"status":"' .. h[2] .. '","done":' .. h[3] .. ',"failed":' .. h[4] ..
    ',"cancelled":' .. h[5] .. ',"total":' .. h[6] .. ',"seq":' .. string.format('%d', seq) .. ',"at":' .. nowText
  if step then
    msg = msg .. ',"step":' .. cjson.encode(step) .. ',"stepStatus":"' .. stepStatus .. '","taskId":' .. cjson.encode(redis.call('HGET', F, 't:' .. step))
  end
  redis.call('PUBLISH', channel, msg .. '}')
end

-- A step ended: its status, result or error, the counters.
local function flow_step_ended(step, status, result, err)
  redis.call('HSET', F, 'st:' .. step, status)
  if result and result ~= '' then redis.call('HSET', F, 'r:' .. step, result) end
  if err and err ~= '' then redis.call('HSET', F, 'e:' .. step, err) end
  local counter = 'failed'
  if status == 'Done' then counter = 'done' elseif status == 'Cancelled' then counter = 'cancelled' end
  redis.call('HINCRBY', F, counter, 1)
end

-- Every step still Waiting ends Cancelled (it will never be released).
local function flow_cancel_waiting(reason)
  for _, s in ipairs(flow_json_list('names')) do
    if redis.call('HGET', F, 'st:' .. s) == 'Waiting' then flow_step_ended(s, 'Cancelled', nil, reason) end
  end
end

-- Appends an action to `out`: 7 values, kind, step, its queue, task id and input, then two more.
local function flow_push_action(out, kind, s, a, b)
  local h = redis.call('HMGET', F, 'q:' .. s, 't:' .. s, 'in:' .. s)
  for _, v in ipairs({ kind, s, h[1], h[2], h[3], a, b }) do out[#out + 1] = v end
end

-- The action that enqueues a released step: 'release', step, queue, task id,
-- its input, the results of its deps that ended Done (a JSON object, by step;
-- null for a step that returned nothing), the errors of the others.
local function flow_release_action(out, s)
  local inputs, errors = {}, {}
  for _, d in ipairs(flow_json_list('deps:' .. s)) do
    local h = redis.call('HMGET', F, 'st:' .. d, 'r:' .. d, 'e:' .. d)
    if h[1] == 'Done' then
      inputs[#inputs + 1] = cjson.encode(d) .. ':' .. (h[2] or 'null')
    else
      errors[#errors + 1] = cjson.encode(d) .. ':' .. cjson.encode(h[3] or h[1])
    end
  end
  flow_push_action(out, 'release', s, '{' .. table.concat(inputs, ',') .. '}', '{' .. table.concat(errors, ',') .. '}')
end

-- The actions that cancel every released step that has not ended: 'cancel',
-- step, queue, task id, the task's input (a step whose task was never
-- enqueued is written Cancelled from it, so no later enqueue can start it).
local function flow_cancel_actions(out)
  for _, s in ipairs(flow_json_list('names')) do
    if redis.call('HGET', F, 'st:' .. s) == 'Released' then flow_push_action(out, 'cancel', s, '', '') end
  end
end

-- Ends the flow once every step ended: FlowCancelled after a cancel,
-- FlowDone when every step is Done, else FlowFailed. Kept `retention` ms.
local function flow_maybe_end(channel, now)
  local h = redis.call('HMGET', F, 'done', 'failed', 'cancelled', 'total', 'state', 'retention')
  local done, total = tonumber(h[1]), tonumber(h[4])
  if done + tonumber(h[2]) + tonumber(h[3]) < total or flow_ended[h[5]] then return false end
  local state = 'FlowFailed'
  if h[5] == 'FlowCancelling' then state = 'FlowCancelled' elseif done == total then state = 'FlowDone' end
  redis.call('HSET', F, 'state', state, 'endedAt', string.format('%.0f', now))
  flow_event(channel, now)
  local retention = tonumber(h[6])
  if retention and retention > 0 then redis.call('PEXPIRE', F, retention) end
  return true
end
