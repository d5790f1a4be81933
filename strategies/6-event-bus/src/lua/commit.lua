-- commit.lua: move a group's offset past events its handler finished (at-least-once).
--
-- KEYS[1] {P}:offsets      HASH: group -> next offset to read
-- KEYS[2] {P}:lease:GROUP  STRING: the member that owns this partition for the group
-- ARGV[1] group
-- ARGV[2] member (must hold the lease)
-- ARGV[3] the offset the member read from (what it believes is stored)
-- ARGV[4] the new offset
-- Returns 1 if committed, 0 if the offset had been moved meanwhile (a replay).

-- 1. Fencing: a member that lost its lease must not commit over the new owner's work.
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return redis.error_reply('NOTHOLDER lease of this partition is not held by ' .. ARGV[2])
end

-- 2. Compare and set: if a replay reset the offset while the batch ran, keep the replay.
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[3] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
return 1
