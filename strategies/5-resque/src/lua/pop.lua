-- Pops the next job for a worker, walking its queues in priority order, and records what
-- the worker works on, in one atomic step (node-resque's popAndStoreJob, for every queue at
-- once, so an idle pass costs one round trip instead of one per queue).
--
-- KEYS[1]    worker:NAME:QUEUES (the "working on" key)
-- KEYS[2..]  queue:Q for each queue, highest priority first
-- ARGV[1]    run_at (JavaScript Date string)     ARGV[2]  worker NAME
-- ARGV[3]    "1" for reliable fetch (LMOVE into a processing list), "0" for LPOP
-- ARGV[4]    processing key prefix ("resque:processing:")
-- ARGV[5..]  queue names, in the order of KEYS[2..]
-- Returns {queue, payload} or false.
for i = 2, #KEYS do
  local queue = ARGV[i + 3]
  local payload
  if ARGV[3] == '1' then
    payload = redis.call('LMOVE', KEYS[i], ARGV[4] .. queue .. ':' .. ARGV[2], 'LEFT', 'RIGHT')
  else
    payload = redis.call('LPOP', KEYS[i])
  end
  if payload then
    -- The payload is embedded as is: re-encoding it with cjson would turn [] into {}.
    local body = payload
    if not pcall(cjson.decode, payload) then body = cjson.encode(payload) end
    redis.call('SET', KEYS[1], '{"run_at":' .. cjson.encode(ARGV[1]) .. ',"queue":' .. cjson.encode(queue)
      .. ',"worker":' .. cjson.encode(ARGV[2]) .. ',"payload":' .. body .. '}')
    return {queue, payload}
  end
end
return false
