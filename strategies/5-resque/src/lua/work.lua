-- One step of a worker, in one atomic call: record how the last job ended, then take the
-- next one. node-resque spends a MULTI on the first half and one popAndStoreJob per queue on
-- the second; here a busy worker costs Redis one command per job.
--
-- KEYS[1]    worker:NAME:QUEUES (the "working on" key)
-- KEYS[2..3] stat:processed, stat:processed:NAME     KEYS[4..5] stat:failed, stat:failed:NAME
-- KEYS[6]    failed
-- KEYS[7]    processing:Q:NAME of the last job's queue (reliable fetch; unused otherwise)
-- KEYS[8..]  for each queue, highest priority first: queue:Q, processing:Q:NAME
--            (no queue: finish only)
-- ARGV[1]    run_at (JavaScript Date string)     ARGV[2]  worker NAME
-- ARGV[3]    "1" for reliable fetch (LMOVE into processing:Q:NAME), "0" for LPOP
-- ARGV[4]    how the last job ended: "" (no last job), "ok", "fail", "skip" (dropped by a plugin)
-- ARGV[5]    its payload       ARGV[6]  its failed entry ("fail")
-- ARGV[7..]  queue names, in the order of the KEYS[8..] pairs
-- Returns {queue, payload} or false.
local name, reliable, ended = ARGV[2], ARGV[3] == '1', ARGV[4]
-- 1. How the last job ended. A skipped job moves no counter and leaves no entry.
if ended ~= '' then
  if ended == 'ok' then
    redis.call('INCR', KEYS[2])
    redis.call('INCR', KEYS[3])
  elseif ended == 'fail' then
    redis.call('INCR', KEYS[4])
    redis.call('INCR', KEYS[5])
    redis.call('RPUSH', KEYS[6], ARGV[6])
  end
  -- It no longer runs: a cleaner that found this key would count the job lost.
  redis.call('DEL', KEYS[1])
  -- workshop 5.1: solution begin
  if reliable then
    -- Done with, so out of the processing list: a recovery would otherwise run it again.
    redis.call('LREM', KEYS[7], 1, ARGV[5])
  end
  -- workshop 5.1: solution end
end
-- 2. The next job: from the first queue, in priority order, that has one.
for i = 1, (#KEYS - 7) / 2 do
  local queue_key, processing_key, queue = KEYS[6 + 2 * i], KEYS[7 + 2 * i], ARGV[6 + i]
  local payload
  -- workshop 5.1: solution begin
  if reliable then
    payload = redis.call('LMOVE', queue_key, processing_key, 'LEFT', 'RIGHT')
  else
    payload = redis.call('LPOP', queue_key)
  end
  -- workshop 5.1: solution end
  -- workshop 5.1: starter
  -- payload = redis.call('LPOP', queue_key)
  -- workshop 5.1: starter end
  if payload then
    -- Taken and marked as worked on in one atomic step: there is no moment where the job
    -- has left its queue and nothing in Redis says which worker has it.
    -- The payload is embedded as is: re-encoding it with cjson would turn [] into {}.
    local body = payload
    if not pcall(cjson.decode, payload) then body = cjson.encode(payload) end
    redis.call('SET', KEYS[1], '{"run_at":' .. cjson.encode(ARGV[1]) .. ',"queue":' .. cjson.encode(queue)
      .. ',"worker":' .. cjson.encode(name) .. ',"payload":' .. body .. '}')
    return {queue, payload}
  end
end
return false
