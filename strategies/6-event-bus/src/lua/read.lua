-- read.lua: read a batch at a group's offset in one partition.
--
-- KEYS[1] {P}:log          LIST of events
-- KEYS[2] {P}:meta         HASH: base
-- KEYS[3] {P}:offsets      HASH: group -> next offset to read
-- KEYS[4] {P}:lease:GROUP  STRING: the member that owns this partition for the group
-- ARGV[1] group
-- ARGV[2] member (must hold the lease)
-- ARGV[3] batch size
-- ARGV[4] '1' to advance the offset now (at-most-once), '0' to leave it to commit.lua
-- ARGV[5] the offset to read from, when the member reads ahead of its commit (at-least-once,
--         with events in flight); '' to read from the group's stored offset
-- Returns {offset of the first event, events skipped by retention, {event, ...}}.

-- 1. Only the lease holder reads: a member whose lease expired (it was paused, its
--    partition handed over) must not read on as if it still owned the partition.
if redis.call('GET', KEYS[4]) ~= ARGV[2] then
  return redis.error_reply('NOTHOLDER lease of this partition is not held by ' .. ARGV[2])
end

-- 2. The keys hold what this script reads (checks.lua): a key something else overwrote
--    fails here, saying which key holds what, instead of halfway through with a Lua error.
local base, bad = partition_base(KEYS[1], KEYS[2], KEYS[3])
if bad then
  return bad
end
local stored, bad_stored = stored_offset(KEYS[3], ARGV[1])
if bad_stored then
  return bad_stored
end

-- 3. Where the group stands. A new group starts at the oldest retained event, and so does
--    a group whose next event was trimmed away by retention (the skip is reported).
--    A member with events in flight reads on from the end of what it has read: the stored
--    offset stays below them until they are committed.
local ahead = ARGV[5] ~= ''
local offset = stored or base
if ahead then
  offset = tonumber(ARGV[5])
end
local skipped = 0
if offset < base then
  skipped = base - offset
  offset = base
end
-- Reading ahead, the stored offset is the member's to move (commit.lua compares it).
if not ahead and (stored == nil or skipped > 0) then
  redis.call('HSET', KEYS[3], ARGV[1], offset)
end

-- 4. The batch. Unlike the original, an empty read moves nothing: the cursor can never
--    run past the end and skip what is appended later.
local first = offset - base
local events = redis.call('LRANGE', KEYS[1], first, first + tonumber(ARGV[3]) - 1)

-- workshop 6.1: solution begin
-- 5. At-most-once: advance before the handler runs (the original's only mode). If the
--    consumer dies now, these events are never handled.
if ARGV[4] == '1' and #events > 0 then
-- workshop 6.1: solution end
-- workshop 6.1: starter
-- -- 5. Advance past the batch as it is handed out, as the seed's getAndIncr did.
-- if #events > 0 then
-- workshop 6.1: starter end
  redis.call('HSET', KEYS[3], ARGV[1], offset + #events)
end

return {offset, skipped, events}
