-- Deletes the leader lock only if this scheduler holds it.
-- KEYS[1] resque_scheduler_leader_lock   ARGV[1] scheduler name
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
