-- cdummy: stand-in for a standalone node's harbor slave; it starts the
-- (silent) harbor service and answers local name queries.
local skynet = require "skynet"
require "skynet.manager"

skynet.start(function()
	skynet.launch("harbor", 0, skynet.self())
	skynet.dispatch("lua", function(_, _, cmd, name)
		if cmd == "QUERYNAME" then
			skynet.ret(skynet.pack(skynet.localname(name)))
		else
			skynet.ret()
		end
	end)
end)
