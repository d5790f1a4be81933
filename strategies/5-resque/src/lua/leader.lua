-- Takes or keeps the scheduler leader lock (node-resque's tryForLeader, in one step).
-- KEYS[1] resque_scheduler_leader_lock   ARGV[1] scheduler name   ARGV[2] lock TTL, seconds
if redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
