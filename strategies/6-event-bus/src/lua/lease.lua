-- lease.lua: take or renew the lease on one partition for one member of a group.
--
-- KEYS[1] {P}:lease:GROUP  STRING: the holder's member id, expiring after ARGV[2] ms
-- ARGV[1] member id
-- ARGV[2] lease time in ms
-- Returns 1 if the member holds the lease now, 0 if another member does.
--
-- A holder that dies stops renewing; the key expires and another member takes over. That
-- is the whole failure detector for ownership: the members' heartbeats (heartbeat.lua)
-- only size each member's share, they never take a partition away.

-- 1. Free, or already ours: (re)set it with a fresh expiry.
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end

-- 2. Someone else's.
return 0
