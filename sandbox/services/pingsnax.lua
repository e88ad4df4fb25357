-- A snax service (started with the console's `snax pingsnax`, or by
-- main.lua when the config's `snax_services` names it): shows in `list`
-- as `snlua snaxd pingsnax`.
local skynet = require "skynet"

local hits = 0

function response.ping(x)
	hits = hits + 1
	return x, hits
end

function init()
end
