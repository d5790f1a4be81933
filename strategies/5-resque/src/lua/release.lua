-- Deletes the leader locks (node-resque's and resque-scheduler's) that this scheduler holds.
-- KEYS[1..2] the two locks, as in leader.lua   ARGV[1] scheduler name
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then released = released + redis.call('DEL', key) end
end
return released
