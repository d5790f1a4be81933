-- trim.lua: retention for one partition: drop old events, keep every offset meaning the same.
--
-- KEYS[1] {P}:log    LIST of events
-- KEYS[2] {P}:meta   HASH: base (offset of the list's first element)
-- ARGV[1] drop events published before this time (ms since the epoch; 0 = no time bound)
-- ARGV[2] keep at most this many events (0 = no count bound)
-- Returns {events dropped, new base}.
--
-- Offsets stay valid because base grows by exactly what LTRIM removes: the event at
-- offset O is always at list index O - base. Groups whose offset falls below base skip
-- ahead on their next read (read.lua reports how many they missed).

-- 1. How many old events, by binary search over the stamps (first_at_or_after, from
--    stamps.lua).
local len = redis.call('LLEN', KEYS[1])
local cutoff = tonumber(ARGV[1])
local drop = 0
if cutoff > 0 then
  drop = first_at_or_after(KEYS[1], cutoff)
end

-- 2. The count bound, if tighter.
local keep = tonumber(ARGV[2])
if keep > 0 and len - drop > keep then
  drop = len - keep
end

-- 3. Drop them and move base by the same amount, in one atomic step.
if drop > 0 then
  redis.call('LTRIM', KEYS[1], drop, -1)
  redis.call('HINCRBY', KEYS[2], 'base', drop)
end
return {drop, tonumber(redis.call('HGET', KEYS[2], 'base') or '0')}
