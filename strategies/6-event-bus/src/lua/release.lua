-- release.lua: give a partition's lease back, if it is still ours.
--
-- KEYS[1] {P}:lease:GROUP  STRING: the holder's member id
-- ARGV[1] member id
-- Returns 1 if released, 0 if it was not ours (expired and taken by another member).

-- 1. Delete only our own lease: a plain DEL could free a lease another member now holds.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
