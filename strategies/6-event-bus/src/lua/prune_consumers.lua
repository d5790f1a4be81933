-- prune_consumers.lua: forget the group's consumers of one partition stream that hold
-- nothing, so that XINFO CONSUMERS does not grow by one name per restarted member.
--
-- KEYS[1] {P}:stream  STREAM of the partition (Streams backend)
-- ARGV[1] group
-- ARGV[2] member id of the caller (kept: it holds the lease and reads on)
-- Returns the number of consumers deleted.
--
-- Called by a new lease holder once it has claimed the previous holders' pending
-- entries. Only a consumer with no pending entry may go: XGROUP DELCONSUMER drops its
-- pending entries, and those would then never be handled. Inside one script, nobody can
-- read an entry between the check and the delete.

local deleted = 0
-- 1. Every consumer of the group on this stream, as flat field/value lists.
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local fields = {}
  for i = 1, #consumer, 2 do
    fields[consumer[i]] = consumer[i + 1]
  end
  -- 2. Delete the ones that are not the caller and hold no pending entry.
  if fields['name'] ~= ARGV[2] and fields['pending'] == 0 then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], fields['name'])
    deleted = deleted + 1
  end
end
return deleted
