-- flow/reconcile: the actions a flow still needs, from its state alone, for
-- a janitor that finds a flow whose adder or canceller stopped before it
-- carried them out: a running flow's released steps are enqueued (a no-op
-- for those that were), a failing or cancelling flow's released steps are
-- cancelled.
-- KEYS[1] flow: the flow's hash
-- Returns { 'gone' }, { 'ended' } or { 'open', actions... }.
if redis.call('EXISTS', F) == 0 then return { 'gone' } end
local state = redis.call('HGET', F, 'state')
if flow_ended[state] then return { 'ended' } end
local out = { 'open' }
if state == 'FlowRunning' then
  for _, s in ipairs(flow_json_list('names')) do
    if redis.call('HGET', F, 'st:' .. s) == 'Released' then flow_release_action(out, s) end
  end
else
  flow_cancel_actions(out)
end
return out
