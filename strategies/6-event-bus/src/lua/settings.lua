-- settings.lua: record how a log is cut when the first process connects, and tell every
-- later process what was recorded, so producers and consumers cannot silently disagree.
--
-- KEYS[1] {PREFIX}:settings  HASH: partitions, backend
-- ARGV[1] the partition count this process was started with
-- ARGV[2] the backend this process was started with ('lists' or 'streams')
-- Returns {partitions, backend} as stored: the first process's choice.
--
-- Why it matters: a consumer started with more partitions than the producers would take
-- leases on partitions nobody writes to, and its share of the real ones would go unread.

-- 1. The first process decides (HSETNX leaves an existing value alone).
redis.call('HSETNX', KEYS[1], 'partitions', ARGV[1])
redis.call('HSETNX', KEYS[1], 'backend', ARGV[2])

-- 2. Every process gets the stored choice back and compares it with its own.
return redis.call('HMGET', KEYS[1], 'partitions', 'backend')
