-- Takes or keeps the scheduler leader lock (node-resque's tryForLeader, in one step), and
-- resque-scheduler's lock beside it: while a node-resque or a Ruby scheduler holds its own
-- lock, this one does not lead; while this one holds both, neither of them can.
-- KEYS[1] resque_scheduler_leader_lock (node-resque's)
-- KEYS[2] resque:resque_scheduler_master_lock (resque-scheduler's)
-- ARGV[1] scheduler name   ARGV[2] lock TTL, seconds
for _, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder and holder ~= ARGV[1] then return 0 end
end
-- Free or already ours: take (or renew) both. One script, so no other scheduler can take
-- one of them between the check and the write.
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'EX', ARGV[2])
end
return 1
