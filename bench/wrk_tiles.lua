-- wrk script for bench/tiles.py: every connection walks the tile list (TILE_LIST, one path per line), each
-- thread starting at a different place, so all threads together request the list in a fixed order.
local paths = {}
for line in io.lines(os.getenv("TILE_LIST")) do
  paths[#paths + 1] = line
end

local threads = 0
function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end

local counter = 0
function request()
  counter = counter + 1
  return wrk.format("GET", paths[((offset or 0) + counter) % #paths + 1])
end
