-- One step of a worker, in one atomic call: record how the last job ended, then take the
-- next one. node-resque spends a MULTI on the first half and one popAndStoreJob per queue on
-- the second; here a busy worker costs Redis one command per job.
--
-- KEYS[1]    worker:NAME:QUEUES (the "working on" key)
-- KEYS[2..4] stat:processed, stat:processed:NAME, stat:processed:NAME:QUEUES
-- KEYS[5..7] stat:failed, stat:failed:NAME, stat:failed:NAME:QUEUES
--            (a worker's own counters under node-resque's name and under Ruby Resque's)
-- KEYS[8]    failed
-- KEYS[9]    processing:Q:NAME of the last job's queue (reliable fetch; unused otherwise)
-- KEYS[10..] for each queue, highest priority first: queue:Q, processing:Q:NAME
--            (no queue: finish only)
-- ARGV[1]    run_at (JavaScript Date string)     ARGV[2]  worker NAME
-- ARGV[3]    "1" for reliable fetch (LMOVE into processing:Q:NAME), "0" for LPOP
-- ARGV[4]    how the last job ended: "" (no last job), "ok", "fail", "skip" (dropped by a plugin)
-- ARGV[5]    its payload       ARGV[6]  its failed entry ("fail")
-- ARGV[7..]  queue names, in the order of the KEYS[10..] pairs
-- Returns {not_recorded, queue, payload}: not_recorded is "" once the last outcome is
-- written, else why it could not be; queue and payload are false when no job was taken.
--
-- Redis runs a script to its end or to its first failing command, and keeps every write
-- made before that command. A failure here after a write would have the worker, which
-- sees only the error, run the whole call again and repeat those writes (a counter that
-- rises on every try). So each key is checked before the first write, and the script
-- never fails once it has written.
local name, reliable, ended = ARGV[2], ARGV[3] == '1', ARGV[4]

-- Why `key` cannot take a write of kind `need` ('counter': INCR, 'list': RPUSH, LREM,
-- LPOP, LMOVE), or nil when it can (absent, or of that kind).
local function unfit(key, need)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'none' or (need == 'list' and kind == 'list') then return nil end
  if need == 'counter' and kind == 'string' and string.match(redis.call('GET', key), '^%-?%d+$') then
    return nil
  end
  return key .. ' holds a ' .. kind .. ', not a ' .. need
end

-- 1. How the last job ended, written whole or not at all. A skipped job moves no counter
-- and leaves no entry.
local not_recorded = ''
if ended ~= '' then
  local problem
  if ended == 'ok' then
    problem = unfit(KEYS[2], 'counter') or unfit(KEYS[3], 'counter') or unfit(KEYS[4], 'counter')
  elseif ended == 'fail' then
    problem = unfit(KEYS[5], 'counter') or unfit(KEYS[6], 'counter') or unfit(KEYS[7], 'counter')
      or unfit(KEYS[8], 'list')
  end
  if problem then
    -- Nothing is counted that is not recorded; the worker reports the job instead.
    not_recorded = problem
  elseif ended == 'ok' then
    redis.call('INCR', KEYS[2])
    redis.call('INCR', KEYS[3])
    redis.call('INCR', KEYS[4])
  elseif ended == 'fail' then
    redis.call('INCR', KEYS[5])
    redis.call('INCR', KEYS[6])
    redis.call('INCR', KEYS[7])
    redis.call('RPUSH', KEYS[8], ARGV[6])
  end
  -- Recorded or not, it no longer runs: a cleaner that found this key would count the job
  -- lost (DEL takes a key of any type).
  redis.call('DEL', KEYS[1])
  -- workshop 5.1: solution begin
  if reliable and not unfit(KEYS[9], 'list') then
    -- Done with, so out of the processing list: a recovery would otherwise run it again.
    redis.call('LREM', KEYS[9], 1, ARGV[5])
  end
  -- workshop 5.1: solution end
end
-- 2. The next job: from the first queue, in priority order, that has one. A queue key of
-- another type is passed over: failing on it now would repeat step 1.
for i = 1, (#KEYS - 9) / 2 do
  local queue_key, processing_key, queue = KEYS[8 + 2 * i], KEYS[9 + 2 * i], ARGV[6 + i]
  local payload
  -- workshop 5.1: solution begin
  if unfit(queue_key, 'list') or (reliable and unfit(processing_key, 'list')) then
    payload = false
  elseif reliable then
    payload = redis.call('LMOVE', queue_key, processing_key, 'LEFT', 'RIGHT')
  else
    payload = redis.call('LPOP', queue_key)
  end
  -- workshop 5.1: solution end
  -- workshop 5.1: starter
  -- if unfit(queue_key, 'list') then
  --   payload = false
  -- else
  --   payload = redis.call('LPOP', queue_key)
  -- end
  -- workshop 5.1: starter end
  if payload then
    -- Taken and marked as worked on in one atomic step: there is no moment where the job
    -- has left its queue and nothing in Redis says which worker has it.
    -- The payload is embedded as is: re-encoding it with cjson would turn [] into {}.
    local body = payload
    if not pcall(cjson.decode, payload) then body = cjson.encode(payload) end
    redis.call('SET', KEYS[1], '{"run_at":' .. cjson.encode(ARGV[1]) .. ',"queue":' .. cjson.encode(queue)
      .. ',"worker":' .. cjson.encode(name) .. ',"payload":' .. body .. '}')
    return {not_recorded, queue, payload}
  end
end
return {not_recorded, false, false}
