-- flow/note: a step's task ended (the notice a mover carried from its
-- queue's flow outbox). Records the step's end once (a notice carried again
-- changes nothing), counts it in the fan-in of the steps that wait for it
-- and releases those whose deps have all ended; under the failFast policy a
-- step that did not end Done turns the flow FlowFailing: the Waiting steps
-- end Cancelled and the released ones are to be cancelled. Ends the flow
-- when every step ended. Returns the actions the mover then carries out,
-- each idempotent: the same on a redo as the first time.
-- KEYS[1] flow: the flow's hash
-- ARGV[1] flow events channel
-- ARGV[2] step
-- ARGV[3] the task id the notice names (a notice of another task is ignored)
-- ARGV[4] status: Done | Dead | Failed | Cancelled
-- ARGV[5] result (JSON text) or ''
-- ARGV[6] error or ''
-- Returns { 'gone' } (no such flow: ended long ago, or lost), { 'ignored' }
-- or { 'noted', actions... } (see flow_release_action, flow_cancel_actions).
if redis.call('EXISTS', F) == 0 then return { 'gone' } end
local s = ARGV[2]
local h = redis.call('HMGET', F, 'st:' .. s, 't:' .. s, 'state', 'policy')
local st, state = h[1], h[3]
if not st or h[2] ~= ARGV[3] or not flow_final[ARGV[4]] then return { 'ignored' } end
local now = taskq_now()
if not flow_final[st] and not flow_ended[state] then
  flow_step_ended(s, ARGV[4], ARGV[5], ARGV[6])
  flow_event(ARGV[1], now, s, ARGV[4])
  if state == 'FlowRunning' and ARGV[4] ~= 'Done' and h[4] == 'failFast' then
    state = 'FlowFailing'
    local err = ARGV[6]
    if err == '' then err = ARGV[4] end
    redis.call('HSET', F, 'state', state, 'reason', 'step ' .. s .. ' ' .. ARGV[4] .. ': ' .. err)
    flow_cancel_waiting('flow failed: step ' .. s .. ' ' .. ARGV[4])
    flow_event(ARGV[1], now)
  elseif state == 'FlowRunning' then
    for _, d in ipairs(flow_json_list('next:' .. s)) do
      local left = redis.call('HINCRBY', F, 'left:' .. d, -1)
      if left <= 0 and redis.call('HGET', F, 'st:' .. d) == 'Waiting' then redis.call('HSET', F, 'st:' .. d, 'Released') end
    end
  end
end
local out = { 'noted' }
if state == 'FlowRunning' then
  for _, d in ipairs(flow_json_list('next:' .. s)) do
    if redis.call('HGET', F, 'st:' .. d) == 'Released' then flow_release_action(out, d) end
  end
elseif state == 'FlowFailing' or state == 'FlowCancelling' then
  flow_cancel_actions(out)
end
flow_maybe_end(ARGV[1], now)
return out
