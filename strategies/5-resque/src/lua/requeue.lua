-- Reliable fetch: puts the jobs a dead worker had taken back at the head of their queue,
-- in their original order, and returns how many moved.
-- KEYS[1] processing:Q:NAME   KEYS[2] queue:Q
local moved = 0
while redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT') do moved = moved + 1 end
return moved
