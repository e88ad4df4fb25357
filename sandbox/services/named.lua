-- A service with a registered local name, `.named`, and an info_func that
-- echoes its arguments (for `info addr args...`).
local skynet = require "skynet"
require "skynet.manager"

local hits = 0

skynet.start(function()
	skynet.info_func(function(...)
		return { name = "named", hits = hits, args = table.concat({ ... }, ",") }
	end)
	skynet.dispatch("lua", function(_, _, cmd, ...)
		hits = hits + 1
		if cmd == "whoami" then
			skynet.ret(skynet.pack(skynet.self(), hits))
		elseif cmd == "fail" then
			error("named failed: " .. tostring((...)))
		else
			skynet.ret(skynet.pack(cmd, ...))
		end
	end)
	skynet.register ".named"
end)
