-- stamps.lua: a helper that scripts.rs puts in front of replay.lua and trim.lua, which
-- both find events by time. Not a script of its own.
--
-- first_at_or_after(list, ms): the index of the first event of `list` published at or
-- after `ms` (the list's length if there is none). A binary search: valid because
-- append.lua stamps published_at in list order, with a clock that never goes back.
--
-- An entry something else wrote has no stamp. It counts as published at or after any time:
-- a trim then keeps it and what follows (keeping a few old events is harmless, dropping
-- new ones would lose them), and a replay to a time starts no later than it.
local function first_at_or_after(list, ms)
  local lo, hi = 0, redis.call('LLEN', list)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local stamp = string.match(redis.call('LINDEX', list, mid), '^{"published_at":(%d+)')
    if stamp and tonumber(stamp) < ms then
      lo = mid + 1
    else
      hi = mid
    end
  end
  return lo
end

