-- replay.lua: move a group's offset in one partition (to re-deliver, or to skip ahead).
--
-- KEYS[1] {P}:log       LIST of events
-- KEYS[2] {P}:meta      HASH: base
-- KEYS[3] {P}:offsets   HASH: group -> next offset to read
-- ARGV[1] group
-- ARGV[2] 'start' | 'offset' | 'time'
-- ARGV[3] the offset, or the time in ms since the epoch (ignored for 'start')
-- Returns {previous offset, or -1 if the group had none, new offset}.

-- 1. The keys hold what this script reads (checks.lua). The group's own offset is not
--    checked: this script overwrites it, which is how an operator repairs a corrupt one.
local base, bad = partition_base(KEYS[1], KEYS[2], KEYS[3])
if bad then
  return bad
end

-- 2. The retained range: offsets base .. base+len-1 exist, base+len is "the end".
local len = redis.call('LLEN', KEYS[1])
local target = base

-- workshop 6.2: solution begin
-- 3. Where to go. Offsets are clamped to what is retained; a time is found by binary
--    search (first_at_or_after, from stamps.lua).
if ARGV[2] == 'offset' then
  target = math.max(base, math.min(tonumber(ARGV[3]), base + len))
elseif ARGV[2] == 'time' then
  target = base + first_at_or_after(KEYS[1], tonumber(ARGV[3]))
end
-- workshop 6.2: solution end
-- workshop 6.2: starter
-- -- 3. Where to go: for now, always the start of what is retained.
-- workshop 6.2: starter end

-- 4. Store it. A consumer holding a batch notices at commit time (commit.lua's compare
--    and set fails) and reads again from here. What stood there is reported, or -1 when
--    there was nothing, or nothing that was an offset.
local previous = tonumber(redis.call('HGET', KEYS[3], ARGV[1])) or -1
redis.call('HSET', KEYS[3], ARGV[1], target)
return {previous, target}
