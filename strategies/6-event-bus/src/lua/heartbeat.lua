-- heartbeat.lua: say a member of a group is alive, and count the live members.
--
-- KEYS[1] {events}:members:GROUP  ZSET: member id -> time of its last heartbeat (ms)
-- ARGV[1] member id
-- ARGV[2] how long a member counts as alive after its last heartbeat (ms)
-- Returns the number of live members (each takes about partitions / members partitions).

-- 1. Redis's clock, so members on different machines agree on who is stale.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- 2. Record this member, forget the silent ones, count the rest.
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
return redis.call('ZCARD', KEYS[1])
