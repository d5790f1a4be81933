-- Moves every delayed job that is due onto its queue, atomically: there is no moment where
-- a job has left delayed:TS and is not yet on queue:Q (node-resque LPOPs, then enqueues).
--
-- KEYS[1]  delayed_queue_schedule
-- ARGV[1]  now, Unix seconds   ARGV[2] key prefix ("resque:")   ARGV[3] most timestamps per call
-- ARGV[4]  failed_at (for items that name no queue)
-- Returns the number of jobs moved.
--
-- The other keys (delayed:TS, timestamps:<item>, queues, queue:Q, failed) are named by the
-- data the script reads, so they cannot be declared in KEYS beforehand: this script, like
-- node-resque's scheduler, needs one Redis, not a Cluster.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local moved = 0
for _, ts in ipairs(due) do
  local list = ARGV[2] .. 'delayed:' .. ts
  while true do
    local item = redis.call('LPOP', list)
    if not item then break end
    redis.call('SREM', ARGV[2] .. 'timestamps:' .. item, 'delayed:' .. ts)
    local ok, job = pcall(cjson.decode, item)
    local queue = ok and type(job) == 'table' and job['queue']
    if type(queue) == 'string' then
      -- Pushed byte for byte: every worker reads all three job shapes.
      redis.call('SADD', ARGV[2] .. 'queues', queue)
      redis.call('RPUSH', ARGV[2] .. 'queue:' .. queue, item)
      moved = moved + 1
    else
      redis.call('RPUSH', ARGV[2] .. 'failed', '{"worker":"scheduler","queue":"","payload":' .. cjson.encode(item)
        .. ',"exception":"Error","error":"delayed item names no queue","backtrace":[],"failed_at":'
        .. cjson.encode(ARGV[4]) .. '}')
    end
  end
  redis.call('ZREM', KEYS[1], ts)
end
return moved
