-- checks.lua: helpers that scripts.rs puts in front of read.lua, dead_letter.lua and
-- replay.lua, which read keys that any other program could have overwritten. Not a script
-- of its own.
--
-- A key written by hand (SET over a partition's list, HSET of a word as an offset) would
-- otherwise fail deep inside a script, with "attempt to compare nil with number" or a bare
-- WRONGTYPE that names neither the key nor what is wrong, and the consumer would retry it
-- for ever. These fail first, with an error that says both, which the consumer reports once
-- and the web's /healthz shows:
--   CORRUPT {events:1}:log holds a string, not a list
--   CORRUPT {events:2}:offsets field mailer holds "abc", not an offset

-- wrong_type(key, wanted): the CORRUPT error if `key` holds something other than a `wanted`
-- ('list', 'hash'); nil if it holds one, or does not exist yet.
local function wrong_type(key, wanted)
  local found = redis.call('TYPE', key)['ok']
  if found ~= 'none' and found ~= wanted then
    return redis.error_reply('CORRUPT ' .. key .. ' holds a ' .. found .. ', not a ' .. wanted)
  end
  return nil
end

-- stored_offset(key, field): the offset stored in `field` of the hash `key`, nil if there is
-- none; or nil and the CORRUPT error when what is stored is not a whole number >= 0.
local function stored_offset(key, field)
  local stored = redis.call('HGET', key, field)
  if stored == false then
    return nil, nil
  end
  local offset = tonumber(stored)
  if offset == nil or offset < 0 or offset ~= math.floor(offset) then
    return nil, redis.error_reply('CORRUPT ' .. key .. ' field ' .. field .. ' holds "' ..
      string.sub(stored, 1, 40) .. '", not an offset')
  end
  return offset, nil
end

-- partition_base(log, meta, offsets): the partition's base offset (0 before retention first
-- trimmed it), once its log, meta and offsets keys are found to hold what the scripts
-- expect; or nil and the CORRUPT error.
local function partition_base(log, meta, offsets)
  local bad = wrong_type(log, 'list') or wrong_type(meta, 'hash') or wrong_type(offsets, 'hash')
  if bad then
    return nil, bad
  end
  local base, bad_base = stored_offset(meta, 'base')
  if bad_base then
    return nil, bad_base
  end
  return base or 0, nil
end
