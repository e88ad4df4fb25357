-- A service that can be made to spin forever (for `signal`), with a counter
-- that proves it serves messages again afterwards. Registered as `.loopy`.
-- It logs "loopy: spinning" as it starts to spin: tests wait for that line.
local skynet = require "skynet"
require "skynet.manager"

local count = 0
local CMD = {}

function CMD.spin()
	count = count + 1
	skynet.error("loopy: spinning")
	local x = 0
	while true do
		x = x + 1
	end
end

function CMD.count()
	count = count + 1
	return count
end

skynet.start(function()
	skynet.dispatch("lua", function(session, _, cmd, ...)
		local f = assert(CMD[cmd], cmd)
		if session == 0 then
			f(...)
		else
			skynet.ret(skynet.pack(f(...)))
		end
	end)
	skynet.register ".loopy"
end)
