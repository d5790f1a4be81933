-- One step of a worker, in one atomic call: record how the last job ended, then take the
-- next one. node-resque spends a MULTI on the first half and one popAndStoreJob per queue on
-- the second; here a busy worker costs Redis one command per job.
--
-- KEYS[1]    worker:NAME:QUEUES (the "working on" key)
-- KEYS[2..]  queue:Q for each queue, highest priority first (none: finish only)
-- ARGV[1]    run_at (JavaScript Date string)     ARGV[2]  worker NAME
-- ARGV[3]    "1" for reliable fetch (LMOVE into processing:Q:NAME), "0" for LPOP
-- ARGV[4]    key prefix ("resque:")
-- ARGV[5]    how the last job ended: "" (no last job), "ok", "fail", "skip" (dropped by a plugin)
-- ARGV[6]    its queue       ARGV[7]  its payload       ARGV[8]  its failed entry ("fail")
-- ARGV[9..]  queue names, in the order of KEYS[2..]
-- Returns {queue, payload} or false.
local prefix, name, reliable = ARGV[4], ARGV[2], ARGV[3] == '1'
local ended = ARGV[5]
if ended ~= '' then
  if ended == 'ok' then
    redis.call('INCR', prefix .. 'stat:processed')
    redis.call('INCR', prefix .. 'stat:processed:' .. name)
  elseif ended == 'fail' then
    redis.call('INCR', prefix .. 'stat:failed')
    redis.call('INCR', prefix .. 'stat:failed:' .. name)
    redis.call('RPUSH', prefix .. 'failed', ARGV[8])
  end
  redis.call('DEL', KEYS[1])
  if reliable then
    redis.call('LREM', prefix .. 'processing:' .. ARGV[6] .. ':' .. name, 1, ARGV[7])
  end
end
for i = 2, #KEYS do
  local queue = ARGV[i + 7]
  local payload
  if reliable then
    payload = redis.call('LMOVE', KEYS[i], prefix .. 'processing:' .. queue .. ':' .. name, 'LEFT', 'RIGHT')
  else
    payload = redis.call('LPOP', KEYS[i])
  end
  if payload then
    -- The payload is embedded as is: re-encoding it with cjson would turn [] into {}.
    local body = payload
    if not pcall(cjson.decode, payload) then body = cjson.encode(payload) end
    redis.call('SET', KEYS[1], '{"run_at":' .. cjson.encode(ARGV[1]) .. ',"queue":' .. cjson.encode(queue)
      .. ',"worker":' .. cjson.encode(name) .. ',"payload":' .. body .. '}')
    return {queue, payload}
  end
end
return false
