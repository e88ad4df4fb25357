-- A service with a global name (no dot: visible from every harbor of the
-- network): the config's `global_name`, else GLOBAL. Answers like `named`.
local skynet = require "skynet"
require "skynet.manager"

local name = skynet.getenv "global_name" or "GLOBAL"
local hits = 0

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		hits = hits + 1
		if cmd == "whoami" then
			skynet.ret(skynet.pack(skynet.self(), hits))
		else
			skynet.ret(skynet.pack(cmd, ...))
		end
	end)
	skynet.register(name)
end)
