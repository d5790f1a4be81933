-- append.lua: publish events to one partition; Redis assigns their offsets.
--
-- KEYS[1] {P}:log    LIST of stamped event JSON
-- KEYS[2] {P}:meta   HASH: base (offset of the list's first element), last_ms
-- KEYS[3] {P}:wake   STREAM of one entry, bumped so that idle consumers wake up
-- ARGV[1..n]         event JSON objects without published_at, each starting with '{'
-- Returns {first_offset, published_at_ms}.
--
-- The offset is the list position plus base, computed here, inside the same atomic call
-- as the append: no later write can ever get a smaller offset, so nothing can land behind
-- a consumer's cursor (the original's "late writes to an old minute" bug cannot happen).

-- 1. Stamp with Redis's clock, never earlier than the last stamp of this partition, so
--    published_at is ordered like offsets (replay-to-time relies on it).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local meta = redis.call('HMGET', KEYS[2], 'base', 'last_ms')
local base = tonumber(meta[1] or '0')
local last = tonumber(meta[2] or '0')
if now < last then
  now = last
end
if now ~= last then
  redis.call('HSET', KEYS[2], 'last_ms', now)
end

-- 2. Insert "published_at" as the first field of each event object.
local stamped = {}
for i, event in ipairs(ARGV) do
  if string.sub(event, 1, 1) ~= '{' or string.len(event) < 3 then
    return redis.error_reply('BADEVENT argument ' .. i .. ' is not a JSON object')
  end
  stamped[i] = '{"published_at":' .. now .. ',' .. string.sub(event, 2)
end

-- 3. Append. RPUSH returns the new length, so the first new element sits at len - n.
local len = redis.call('RPUSH', KEYS[1], unpack(stamped))
local first = base + len - #stamped

-- 4. Wake idle consumers of every group (XREAD BLOCK does not consume the entry).
redis.call('XADD', KEYS[3], 'MAXLEN', '1', '*', 'offset', first + #stamped - 1)

return {first, now}
