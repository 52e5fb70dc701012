-- flow/create: writes a new flow in one step: its definition, every step
-- Waiting but those without deps, which are Released (the caller enqueues
-- them), state FlowRunning. A flow id that exists is left as it is (adding a
-- flow is idempotent per id).
-- KEYS[1] flow: the flow's hash
-- ARGV[1] flow events channel
-- ARGV[2] flow id
-- ARGV[3] policy: failFast | continue
-- ARGV[4] retention after the flow ended, ms
-- ARGV[5] names: JSON array of the step names, in order
-- ARGV[6 ..] per step, in that order, 5 values: queue, task id, input (JSON),
--   deps (JSON array), next (JSON array)
-- Returns { 'exists' } or { 'created', createdAt, actions... }: the release
-- of each step without deps (see flow_release_action).
if redis.call('EXISTS', F) == 1 then return { 'exists' } end
local now = taskq_now()
local names = cjson.decode(ARGV[5])
local fields = {
  'id', ARGV[2], 'policy', ARGV[3], 'retention', ARGV[4], 'createdAt', string.format('%.0f', now),
  'total', #names, 'names', ARGV[5], 'state', 'FlowRunning', 'done', 0, 'failed', 0, 'cancelled', 0, 'seq', 0,
}
for i, s in ipairs(names) do
  local base = 6 + 5 * (i - 1)
  local deps = cjson.decode(ARGV[base + 3])
  local st = 'Waiting'
  if #deps == 0 then st = 'Released' end
  for _, v in ipairs({ 'q:' .. s, ARGV[base], 't:' .. s, ARGV[base + 1], 'in:' .. s, ARGV[base + 2],
      'deps:' .. s, ARGV[base + 3], 'next:' .. s, ARGV[base + 4], 'left:' .. s, #deps, 'st:' .. s, st }) do
    fields[#fields + 1] = v
  end
end
redis.call('HSET', F, taskq_unpack(fields))
flow_event(ARGV[1], now)
local out = { 'created', string.format('%.0f', now) }
for _, s in ipairs(names) do
  if redis.call('HGET', F, 'st:' .. s) == 'Released' then flow_release_action(out, s) end
end
return out
