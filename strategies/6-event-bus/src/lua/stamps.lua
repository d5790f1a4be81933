-- stamps.lua: a helper that scripts.rs puts in front of replay.lua and trim.lua, which
-- both find events by time. Not a script of its own.
--
-- first_at_or_after(list, ms): the index of the first event of `list` published at or
-- after `ms` (the list's length if there is none). A binary search: valid because
-- append.lua stamps published_at in list order, with a clock that never goes back.
local function first_at_or_after(list, ms)
  local lo, hi = 0, redis.call('LLEN', list)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local stamp = string.match(redis.call('LINDEX', list, mid), '^{"published_at":(%d+)')
    if tonumber(stamp) < ms then
      lo = mid + 1
    else
      hi = mid
    end
  end
  return lo
end

