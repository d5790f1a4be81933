-- dead_letter.lua: park an event the group gave up on, and move past it, atomically.
--
-- KEYS[1] {P}:offsets      HASH: group -> next offset to read
-- KEYS[2] {P}:lease:GROUP  STRING: the member that owns this partition for the group
-- KEYS[3] {P}:dead:GROUP   LIST of dead letters (JSON)
-- ARGV[1] group
-- ARGV[2] member (must hold the lease)
-- ARGV[3] the offset the member read from, or '' when the offset already moved (at-most-once)
-- ARGV[4] the new offset (just past the parked event)
-- ARGV[5] the dead letter (JSON)
-- Returns 1 if parked, 0 if the offset had been moved meanwhile (a replay; nothing parked).

-- 1. Fencing, as in commit.lua.
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return redis.error_reply('NOTHOLDER lease of this partition is not held by ' .. ARGV[2])
end

-- 2. The dead letters' key is a list (checks.lua), checked before anything moves: moving
--    past the event and then failing to park it would lose it.
local bad = wrong_type(KEYS[3], 'list')
if bad then
  return bad
end

-- 3. Move past the event (compare and set), unless at-most-once already did.
if ARGV[3] ~= '' then
  if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[3] then
    return 0
  end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
end

-- 4. Park it where people can see it: moving on never means losing silently.
redis.call('RPUSH', KEYS[3], ARGV[5])
return 1
